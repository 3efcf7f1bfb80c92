using System.Runtime.InteropServices;

namespace FisherUnlearn.Lineage.IO;

/// <summary>
/// The .NET runtime's own portable <c>stat</c> (System.Native, shipped with every runtime on Unix; what FileInfo uses).
/// Its FileStatus normalises the file type bits to the same values on every Unix. The struct is given far more room than
/// the runtime writes, so a larger FileStatus in a later runtime cannot overrun it; fields beyond Mode are read only
/// after <see cref="FileStamp"/> has checked them against FileInfo's size and modification time for the same file.
/// </summary>
internal static class SystemNative
{
    public const int TypeMask = 0xF000;
    public const int Fifo = 0x1000;
    public const int CharacterDevice = 0x2000;
    public const int BlockDevice = 0x6000;
    public const int Socket = 0xC000;
    public const int Regular = 0x8000;

    /// <summary>0 on success (links followed).</summary>
    public static int Stat(string path, out FileStatus status) => SystemNative_Stat(path, out status);

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int SystemNative_Stat(string path, out FileStatus status);

    /// <summary>The runtime's FileStatus (dotnet/runtime, src/native/libs/System.Native/pal_io.h, .NET 8 and later).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 512)]
    public struct FileStatus
    {
        [FieldOffset(4)]
        public int Mode;

        [FieldOffset(16)]
        public long Size;

        [FieldOffset(40)]
        public long MTime;

        [FieldOffset(48)]
        public long MTimeNsec;

        [FieldOffset(56)]
        public long CTime;

        [FieldOffset(64)]
        public long CTimeNsec;

        [FieldOffset(88)]
        public long Dev;

        [FieldOffset(104)]
        public long Ino;
    }
}
