using S2CloudMask.Engine.Features;
using S2CloudMask.Train.Data;

namespace S2CloudMask.Train.Learning;

/// <summary>Labelled feature vectors, pixel-major (<c>Rows[i * FeatureCount + f]</c>).</summary>
public sealed class TrainingSet
{
    public TrainingSet(float[] rows, bool[] labels, int featureCount, IReadOnlyList<SceneSample> scenes)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        if (rows.Length != labels.Length * featureCount)
        {
            throw new ArgumentException("rows and labels differ in count", nameof(rows));
        }

        Rows = rows;
        Labels = labels;
        FeatureCount = featureCount;
        Scenes = scenes;
    }

    public float[] Rows { get; }

    public bool[] Labels { get; }

    public int FeatureCount { get; }

    public int Count => Labels.Length;

    /// <summary>How many pixels each scene gave, per class, and how many it had.</summary>
    public IReadOnlyList<SceneSample> Scenes { get; }

    public ReadOnlySpan<float> Row(int i) => Rows.AsSpan(i * FeatureCount, FeatureCount);

    /// <summary>
    /// Draws labelled pixels (clear or cloud, every feature finite) from each scene: at most
    /// <paramref name="perClass"/> of each class, chosen by a fixed hash of (seed, scene, pixel)
    /// so the same data always gives the same sample, then kept in pixel order.
    /// </summary>
    public static TrainingSet Sample(FeatureProgram program, IEnumerable<Scene> scenes, Func<Scene, int> perClass, int seed)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(perClass);
        var rows = new List<float>();
        var labels = new List<bool>();
        var summary = new List<SceneSample>();
        var nf = program.FeatureCount;
        var row = new float[nf];
        var sceneIndex = 0;
        foreach (var scene in scenes)
        {
            sceneIndex++;
            if (scene.Labels is null)
            {
                continue;
            }

            var table = FeatureTable.Compute(program, scene);
            var cap = perClass(scene);
            var chosen = new List<int>();
            var available = new int[2];
            var taken = new int[2];
            foreach (var cls in new[] { Scene.Clear, Scene.Cloud })
            {
                var candidates = new List<int>();
                for (var i = 0; i < scene.PixelCount; i++)
                {
                    if (scene.Labels[i] == cls && table.IsFinite(i))
                    {
                        candidates.Add(i);
                    }
                }

                available[cls] = candidates.Count;
                var pick = candidates.OrderBy(i => Hash(seed, sceneIndex, i)).ThenBy(i => i).Take(cap).ToList();
                taken[cls] = pick.Count;
                chosen.AddRange(pick);
            }

            chosen.Sort();
            foreach (var i in chosen)
            {
                table.Row(i, row);
                rows.AddRange(row);
                labels.Add(scene.Labels[i] == Scene.Cloud);
            }

            summary.Add(new SceneSample(scene.Name, available[0], available[1], taken[0], taken[1]));
        }

        return new TrainingSet([.. rows], [.. labels], nf, summary);
    }

    /// <summary>SplitMix64 finaliser: a stable pseudo-random order that no library version changes.</summary>
    public static ulong Hash(int seed, int scene, int pixel)
    {
        var z = ((ulong)(uint)seed << 32) ^ ((ulong)(uint)scene << 24) ^ (uint)pixel;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>Labelled pixels of one scene: usable (finite features) and drawn for training.</summary>
public sealed record SceneSample(string Scene, int ClearAvailable, int CloudAvailable, int ClearUsed, int CloudUsed);
