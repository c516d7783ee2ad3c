namespace S2CloudMask.Engine.Tests.Trees;

/// <summary>
/// The test classes that switch <c>LevelForest.Kernel</c> or <c>LevelForest.Express</c>,
/// process-wide settings: run one after another, so that one class's switch cannot turn off
/// the path another class is checking (the express lane must have run, for one).
/// </summary>
[CollectionDefinition(Name)]
public sealed class KernelSwitches
{
    public const string Name = "LevelForest kernel switches";
}
