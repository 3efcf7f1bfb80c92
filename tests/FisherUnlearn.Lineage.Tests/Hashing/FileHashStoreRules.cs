using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Hashing;

public sealed class FileHashStoreRules
{
    private static readonly DateTime LongAgo = DateTime.UtcNow.AddHours(-1);

    // A checkpoint-sized file with a modification time an hour ago. Its status-change time is now (no tool can set it
    // back), so the stores of these tests do not wait for it to settle (StoreIn) except where that is the point.
    private static string WriteSettled(TempWorkspace ws, string name, int seed, int length = 200_000)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        var path = ws.PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, LongAgo);
        return path;
    }

    private static FileHashStore StoreIn(TempWorkspace ws)
    {
        Directory.CreateDirectory(ws.PathOf("out")); // the output folder: the store is not what creates it
        return new(ws.PathOf("out/" + FileHashStore.FileName), TimeSpan.Zero);
    }

    [Fact]
    public void A_settled_file_is_hashed_once_and_later_commands_take_its_hash_from_the_store()
    {
        using var ws = new TempWorkspace();
        var checkpoint = WriteSettled(ws, "m/bin/m.safetensors", 1);
        var first = StoreIn(ws);

        var hash = first.Hash(checkpoint);
        var later = StoreIn(ws); // another command: a new process would read the same file
        var again = later.Hash(checkpoint);

        Assert.Equal(ContentHash.OfFile(checkpoint), hash);
        Assert.Equal(hash, again);
        Assert.Equal(1, first.Hashed);
        Assert.Equal(0, later.Hashed);
        Assert.True(File.Exists(ws.PathOf("out/" + FileHashStore.FileName)));
    }

    [Fact]
    public void New_content_is_hashed_again_even_with_the_same_size_and_the_old_modification_time_put_back()
    {
        using var ws = new TempWorkspace();
        var checkpoint = WriteSettled(ws, "m.safetensors", 1);
        var before = StoreIn(ws).Hash(checkpoint);

        // Another model of the same architecture copied over it with its time preserved (cp -p, a cache restore).
        var other = WriteSettled(ws, "other.safetensors", 2);
        File.Copy(other, checkpoint, overwrite: true);
        File.SetLastWriteTimeUtc(checkpoint, LongAgo);
        var store = StoreIn(ws);
        var after = store.Hash(checkpoint);

        Assert.NotEqual(before, after);
        Assert.Equal(ContentHash.OfFile(checkpoint), after);
        Assert.Equal(1, store.Hashed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_file_that_changed_moments_ago_is_not_recorded_so_a_write_in_the_same_clock_tick_cannot_go_unnoticed(bool oldModificationTime)
    {
        using var ws = new TempWorkspace();
        Directory.CreateDirectory(ws.PathOf("out"));
        // Written now; or copied in now with an old modification time (cp -p): its status-change time is still now.
        var fresh = oldModificationTime ? WriteSettled(ws, "fresh.safetensors", 1) : ws.PathOf("fresh.safetensors");
        if (!oldModificationTime)
        {
            File.WriteAllBytes(fresh, new byte[200_000]);
        }

        var first = FileHashStore.ForOutput(ws.PathOf("out"));
        first.Hash(fresh);
        var second = FileHashStore.ForOutput(ws.PathOf("out"));
        second.Hash(fresh);

        Assert.Equal(1, second.Hashed);
        Assert.False(File.Exists(ws.PathOf("out/" + FileHashStore.FileName)));
    }

    [Theory]
    [InlineData("1969-12-31T23:59:58.1234567Z", true)] // before 1970, not a whole number of microseconds
    [InlineData("1901-06-01T00:00:00.0000001Z", true)]
    [InlineData("2300-01-01T00:00:00.0000001Z", false)] // past 2262: no complete stamp, so never recorded
    public void A_replacement_with_an_odd_modification_time_put_back_is_still_seen(string time, bool complete)
    {
        using var ws = new TempWorkspace();
        var checkpoint = WriteSettled(ws, "m.safetensors", 1);
        var when = DateTime.Parse(time, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal);
        File.SetLastWriteTimeUtc(checkpoint, when);
        var first = StoreIn(ws);
        var before = first.Hash(checkpoint);
        File.Copy(WriteSettled(ws, "other.safetensors", 2), checkpoint, overwrite: true);
        File.SetLastWriteTimeUtc(checkpoint, when);

        var store = StoreIn(ws);
        var after = store.Hash(checkpoint);

        Assert.Equal(complete, FileStamp.Of(checkpoint)!.Value.Complete);
        Assert.NotEqual(before, after);
        Assert.Equal(ContentHash.OfFile(checkpoint), after);
        Assert.Equal(complete, File.Exists(ws.PathOf("out/" + FileHashStore.FileName)));
    }

    [Fact]
    public void Small_files_are_hashed_each_time_and_never_recorded()
    {
        using var ws = new TempWorkspace();
        var manifest = WriteSettled(ws, "m.lineage.json", 3, length: 2_000);

        var store = StoreIn(ws);
        Assert.Equal(ContentHash.OfFile(manifest), store.Hash(manifest));
        var later = StoreIn(ws);
        later.Hash(manifest);

        Assert.Equal(1, later.Hashed);
        Assert.False(File.Exists(ws.PathOf("out/" + FileHashStore.FileName)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{ not json")]
    [InlineData("{\"schemaVersion\": 99, \"files\": {}}")]
    [InlineData("{\"schemaVersion\": \"1\", \"files\": []}")]
    [InlineData("{\"schemaVersion\": 1, \"files\": {\"/x\": [\"nothex\", 1, 2, 3, 4, 5, 6], \"/y\": [1, 2]}}")]
    [InlineData("{\"schemaVersion\": 1, \"schemaVersion\": 1, \"files\": {}}")] // a key twice: JSON objects refuse it
    [InlineData("{\"schemaVersion\": 1, \"files\": {\"/a\": 1, \"/a\": 2}}")]
    public void A_damaged_or_foreign_store_counts_as_empty_and_is_replaced_by_a_good_one(string content)
    {
        using var ws = new TempWorkspace();
        var checkpoint = WriteSettled(ws, "m.safetensors", 4);
        ws.Write("out/" + FileHashStore.FileName, content);

        var store = StoreIn(ws);
        var hash = store.Hash(checkpoint);
        var later = StoreIn(ws);

        Assert.Equal(ContentHash.OfFile(checkpoint), hash);
        Assert.Equal(hash, later.Hash(checkpoint));
        Assert.Equal(0, later.Hashed);
    }

    [Fact]
    public void A_forged_entry_whose_stamp_does_not_match_the_file_is_ignored()
    {
        using var ws = new TempWorkspace();
        var checkpoint = WriteSettled(ws, "m.safetensors", 5);
        StoreIn(ws).Hash(checkpoint);
        var path = ws.PathOf("out/" + FileHashStore.FileName);
        var forged = File.ReadAllText(path).Replace(ContentHash.OfFile(checkpoint), new string('0', 64), StringComparison.Ordinal);
        File.WriteAllText(path, forged);
        File.AppendAllText(checkpoint, "grown"); // now another size and time than the (forged) entry says

        var hash = StoreIn(ws).Hash(checkpoint);

        Assert.Equal(ContentHash.OfFile(checkpoint), hash);
    }

    [Fact]
    public void Two_commands_that_record_at_once_keep_each_others_entries()
    {
        using var ws = new TempWorkspace();
        var a = WriteSettled(ws, "a.safetensors", 6);
        var b = WriteSettled(ws, "b.safetensors", 7);
        var one = StoreIn(ws);
        var other = StoreIn(ws);
        one.Hash(a); // both loaded the (empty) store before either wrote
        other.Hash(a);
        other.Hash(b);
        one.Hash(b);

        var later = StoreIn(ws);
        later.Hash(a);
        later.Hash(b);

        Assert.Equal(0, later.Hashed);
    }

    [Fact]
    public void A_big_store_is_rewritten_only_once_the_bytes_hashed_since_reach_its_size()
    {
        using var ws = new TempWorkspace();
        var sha = new string('a', 64);
        var others = string.Join(",", Enumerable.Range(0, 2_000).Select(i => $"\"/elsewhere/{i}\": [\"{sha}\", 1, 2, 3, 4, 5, 6]"));
        ws.Write("out/" + FileHashStore.FileName, $"{{\"schemaVersion\": 1, \"files\": {{{others}}}}}");
        var storeBytes = new FileInfo(ws.PathOf("out/" + FileHashStore.FileName)).Length;
        var files = Enumerable.Range(0, (int)(storeBytes / 100_000) + 2).Select(i => WriteSettled(ws, $"m{i}.safetensors", 10 + i, length: 100_000)).ToList();

        var store = StoreIn(ws);
        store.Hash(files[0]);
        var meanwhile = StoreIn(ws);
        meanwhile.Hash(files[0]); // not written yet: 100 KB hashed against a store of about 180 KB
        foreach (var file in files.Skip(1))
        {
            store.Hash(file);
        }

        var later = StoreIn(ws);
        later.Hash(files[0]);

        Assert.InRange(storeBytes, 150_000, 400_000);
        Assert.Equal(1, meanwhile.Hashed);
        Assert.Equal(0, later.Hashed); // written once enough was hashed
        Assert.DoesNotContain("/elsewhere/", File.ReadAllText(ws.PathOf("out/" + FileHashStore.FileName)), StringComparison.Ordinal); // files gone
    }

    [Fact]
    public void A_store_over_its_cap_is_cut_down_at_the_first_hash_kept()
    {
        using var ws = new TempWorkspace();
        var sha = new string('b', 64);
        var kept = Enumerable.Range(0, 3).Select(i => WriteSettled(ws, $"k{i}.bin", 20 + i, length: 70_000)).ToList();
        var entries = Enumerable.Range(0, FileHashStore.MaxEntries + 500).Select(i => $"\"/gone/{i}\": [\"{sha}\", 1, 2, 3, 4, 5, {i}]")
            .Concat(kept.Select(k => $"\"{k}\": [\"{sha}\", 1, 2, 3, 4, 5, 0]"));
        ws.Write("out/" + FileHashStore.FileName, $"{{\"schemaVersion\": 1, \"files\": {{{string.Join(",", entries)}}}}}");
        var checkpoint = WriteSettled(ws, "m.safetensors", 30, length: 70_000);

        StoreIn(ws).Hash(checkpoint);

        var text = File.ReadAllText(ws.PathOf("out/" + FileHashStore.FileName));
        Assert.DoesNotContain("/gone/", text, StringComparison.Ordinal);
        Assert.Contains(checkpoint.Replace("\\", "\\\\", StringComparison.Ordinal), text, StringComparison.Ordinal);
        Assert.Equal(0, StoreIn(ws) is var later && later.Hash(checkpoint) is not null ? later.Hashed : -1);
    }

    [Fact]
    public void A_store_that_only_reads_uses_recorded_hashes_and_writes_nothing()
    {
        using var ws = new TempWorkspace();
        var a = WriteSettled(ws, "a.safetensors", 40);
        var b = WriteSettled(ws, "b.safetensors", 41);
        StoreIn(ws).Hash(a);
        var before = File.ReadAllText(ws.PathOf("out/" + FileHashStore.FileName));

        var reader = new FileHashStore(ws.PathOf("out/" + FileHashStore.FileName), TimeSpan.Zero, keep: false);
        reader.Hash(a);
        reader.Hash(b);

        Assert.Equal(1, reader.Hashed); // a from the store, b read
        Assert.Equal(before, File.ReadAllText(ws.PathOf("out/" + FileHashStore.FileName)));
    }

    [Fact]
    public void A_command_in_a_workspace_without_an_output_folder_does_not_create_one_for_the_store()
    {
        using var ws = new TempWorkspace();
        var checkpoint = WriteSettled(ws, "m.safetensors", 31);

        new FileHashStore(ws.PathOf("out/" + FileHashStore.FileName), TimeSpan.Zero).Hash(checkpoint);

        Assert.False(Directory.Exists(ws.PathOf("out")));
    }

    [Fact]
    public void A_stamp_tells_a_replaced_file_from_the_one_it_replaced_and_is_null_for_what_is_not_a_regular_file()
    {
        using var ws = new TempWorkspace();
        var path = WriteSettled(ws, "m.safetensors", 8);
        var before = FileStamp.Of(path);
        var replacement = WriteSettled(ws, "n.safetensors", 9);
        File.Move(replacement, path, overwrite: true);
        File.SetLastWriteTimeUtc(path, LongAgo);

        var after = FileStamp.Of(path);

        Assert.NotNull(before);
        Assert.Equal(200_000, after!.Value.Length);
        Assert.NotEqual(before, after);
        Assert.Null(FileStamp.Of(ws.PathOf("missing.safetensors")));
        Assert.Null(FileStamp.Of(ws.Root)); // a folder
    }

    [Fact]
    public void Hashing_parts_equals_hashing_their_concatenation()
    {
        byte[][] parts = [[1, 2, 3], [], [4, 5], new byte[100_000]];

        Assert.Equal(ContentHash.OfBytes(parts.SelectMany(p => p).ToArray()), ContentHash.OfParts(parts));
    }
}
