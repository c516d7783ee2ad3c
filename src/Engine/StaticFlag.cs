namespace S2CloudMask.Engine;

/// <summary>
/// A yes/no known when the JIT compiles a generic kernel: instantiated with the struct
/// <see cref="Yes"/> or <see cref="No"/>, <c>T.IsSet</c> is a constant, so each variant of
/// the kernel keeps only its own branch (no test in the loop, one source for both).
/// </summary>
internal interface IStaticFlag
{
    static abstract bool IsSet { get; }
}

internal readonly struct Yes : IStaticFlag
{
    public static bool IsSet => true;
}

internal readonly struct No : IStaticFlag
{
    public static bool IsSet => false;
}
