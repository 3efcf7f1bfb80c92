using CsCheck;
using FisherUnlearn.Lineage.Hashing;

namespace FisherUnlearn.Lineage.Tests.Hashing;

public sealed class XxHash64Rules
{
    private static ulong Reference(byte[] data) => System.IO.Hashing.XxHash64.HashToUInt64(data);

    [Fact]
    public void The_empty_input_gives_the_published_checksum()
    {
        Assert.Equal(0xEF46DB3751D8E999UL, new XxHash64().Current);
        Assert.Equal("ef46db3751d8e999", new XxHash64().CurrentHex);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(100)]
    [InlineData(4096)]
    [InlineData(1_000_003)]
    public void Every_length_agrees_with_System_IO_Hashing(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        var hash = new XxHash64();

        hash.Append(data);

        Assert.Equal(Reference(data), hash.Current);
    }

    [Fact]
    public void Any_split_into_appends_gives_the_checksum_of_the_whole()
    {
        Gen.Byte.Array[0, 300].SelectMany(data => Gen.Int[0, data.Length].Array[0, 6].Select(cuts => (data, cuts))).Sample(input =>
        {
            var (data, cuts) = input;
            var hash = new XxHash64();
            var start = 0;
            foreach (var cut in cuts.Order().Append(data.Length))
            {
                hash.Append(data.AsSpan(start, cut - start));
                start = cut;
            }

            return hash.Current == Reference(data);
        });
    }

    [Fact]
    public void A_long_is_appended_as_its_eight_little_endian_bytes_and_reading_the_checksum_does_not_end_it()
    {
        var hash = new XxHash64();
        hash.Append(0x0102030405060708L);
        var first = hash.Current;
        hash.Append([9]);

        Assert.Equal(Reference([8, 7, 6, 5, 4, 3, 2, 1]), first);
        Assert.Equal(Reference([8, 7, 6, 5, 4, 3, 2, 1, 9]), hash.Current);
    }
}
