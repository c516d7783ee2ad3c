using System.Globalization;
using System.Text.Json;

namespace S2CloudMask.Engine.Trees;

/// <summary>
/// Reads the ensemble kinds a model file may hold into the flattened <see cref="TreeEnsemble"/>:
/// <c>sklearn-decision-tree</c> (scikit-learn's node arrays), <c>xgboost-json</c> (XGBoost's
/// own <c>Booster.save_model</c> JSON) and <c>trees</c> (the engine's own flattened form,
/// written by the trainer).
/// </summary>
public static class EnsembleReader
{
    public static TreeEnsemble Read(JsonElement ensemble, int featureCount)
    {
        var kind = ensemble.TryGetProperty("kind", out var k) ? k.GetString() : null;
        return kind switch
        {
            "sklearn-decision-tree" => ReadSklearnTree(ensemble, featureCount),
            "xgboost-json" => ReadXgboost(ensemble.GetProperty("model"), featureCount),
            "trees" => ReadNative(ensemble, featureCount),
            null => throw new ModelFormatException("ensemble has no 'kind'"),
            _ => throw new ModelFormatException($"unknown ensemble kind '{kind}' (known: sklearn-decision-tree, xgboost-json, trees)"),
        };
    }

    /// <summary>
    /// A scikit-learn DecisionTreeClassifier: <c>children_left/right</c> (-1 at leaves),
    /// <c>feature</c>, <c>threshold</c> (double; left when <c>x &lt;= t</c>), and
    /// <c>value</c> (class counts); the leaf probability is the positive class's fraction.
    /// </summary>
    public static TreeEnsemble ReadSklearnTree(JsonElement e, int featureCount)
    {
        var left = Ints(e, "children_left");
        var right = Ints(e, "children_right");
        var feature = Ints(e, "feature");
        var threshold = Doubles(e, "threshold");
        var values = e.GetProperty("value");
        var n = left.Length;
        if (right.Length != n || feature.Length != n || threshold.Length != n || values.GetArrayLength() != n)
        {
            throw new ModelFormatException("sklearn tree arrays differ in length");
        }

        var positive = 1;
        if (e.TryGetProperty("classes", out var classes) && classes.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            positive = -1;
            foreach (var c in classes.EnumerateArray())
            {
                if (c.ValueKind == JsonValueKind.True || (c.ValueKind == JsonValueKind.Number && c.GetDouble() == 1))
                {
                    positive = i;
                }

                i++;
            }

            if (positive < 0)
            {
                throw new ModelFormatException("sklearn tree has no positive class (true or 1) in 'classes'");
            }
        }

        var leafProbability = new double[n];
        var row = 0;
        foreach (var v in values.EnumerateArray())
        {
            var counts = Flatten(v);
            if (counts.Count <= positive)
            {
                throw new ModelFormatException($"sklearn tree node {row} has {counts.Count} class values");
            }

            var total = counts.Sum();
            leafProbability[row++] = total > 0 ? counts[positive] / total : 0;
        }

        var b = new FlatBuilder(n);
        for (var i = 0; i < n; i++)
        {
            if (left[i] == -1)
            {
                b.AddLeaf(i, (float)leafProbability[i]);
            }
            else
            {
                // NaN <= t is false in scikit-learn's comparison, so a missing value goes right.
                b.AddSplit(i, feature[i], TreeEnsemble.FloorToFloat(threshold[i]), left[i], right[i], defaultLeft: false);
            }
        }

        return new TreeEnsemble("sklearn-decision-tree", featureCount, b.Nodes(), b.DefaultLeft(), b.Leaves(), [b.Root(0)], Aggregation.Average, 0);
    }

    /// <summary>XGBoost's JSON model (schema of <c>Booster.save_model("x.json")</c>, versions 1.0 to 2.x), gbtree or dart.</summary>
    public static TreeEnsemble ReadXgboost(JsonElement model, int featureCount)
    {
        var learner = model.GetProperty("learner");
        var param = learner.GetProperty("learner_model_param");
        var numClass = ParseNumber(param, "num_class", 0);
        var numTarget = ParseNumber(param, "num_target", 1);
        if (numClass > 1 || numTarget > 1)
        {
            throw new ModelFormatException($"XGBoost model with num_class={numClass}, num_target={numTarget}: only binary or single-output models are supported");
        }

        var objective = learner.GetProperty("objective").GetProperty("name").GetString() ?? "";
        var baseScore = ParseNumber(param, "base_score", 0.5);
        var (aggregation, margin) = objective switch
        {
            "binary:logistic" or "reg:logistic" => (Aggregation.SumSigmoid, Logit(baseScore)),
            "binary:logitraw" => (Aggregation.Sum, Logit(baseScore)),
            "reg:squarederror" or "reg:linear" or "reg:pseudohubererror" => (Aggregation.Sum, baseScore),
            _ => throw new ModelFormatException($"XGBoost objective '{objective}' is not supported (binary:logistic, reg:logistic, binary:logitraw, reg:squarederror)"),
        };

        var booster = learner.GetProperty("gradient_booster");
        var boosterName = booster.GetProperty("name").GetString();
        float[]? weights = null;
        if (boosterName == "dart")
        {
            weights = booster.GetProperty("weight_drop").EnumerateArray().Select(w => (float)w.GetDouble()).ToArray();
            booster = booster.GetProperty("gbtree");
        }
        else if (boosterName != "gbtree")
        {
            throw new ModelFormatException($"XGBoost booster '{boosterName}' is not supported (gbtree, dart)");
        }

        var trees = booster.GetProperty("model").GetProperty("trees");
        var total = 0;
        foreach (var t in trees.EnumerateArray())
        {
            total += t.GetProperty("left_children").GetArrayLength();
        }

        var b = new FlatBuilder(total);
        var roots = new List<int>();
        var offset = 0;
        var index = 0;
        foreach (var t in trees.EnumerateArray())
        {
            var left = Ints(t, "left_children");
            var right = Ints(t, "right_children");
            var split = Ints(t, "split_indices");
            var cond = Floats(t, "split_conditions");
            var dleft = Ints(t, "default_left");
            if (t.TryGetProperty("split_type", out var st) && st.EnumerateArray().Any(x => x.GetInt32() != 0))
            {
                throw new ModelFormatException($"XGBoost tree {index} has categorical splits, which are not supported");
            }

            var w = weights is null ? 1f : weights[index];
            for (var i = 0; i < left.Length; i++)
            {
                if (left[i] == -1)
                {
                    b.AddLeaf(offset + i, cond[i] * w);
                }
                else
                {
                    b.AddSplit(offset + i, split[i], TreeEnsemble.LessThanAsLessOrEqual(cond[i]), offset + left[i], offset + right[i], dleft[i] != 0);
                }
            }

            roots.Add(b.Root(offset));
            offset += left.Length;
            index++;
        }

        return new TreeEnsemble("xgboost-json", featureCount, b.Nodes(), b.DefaultLeft(), b.Leaves(), [.. roots], aggregation, (float)margin);
    }

    /// <summary>
    /// The engine's own form: <c>{"kind":"trees","aggregation":"sum-sigmoid|sum|average",
    /// "base_margin":0,"trees":[{"feature":[],"threshold":[],"left":[],"right":[],
    /// "default_left":[],"leaf_value":[]}]}</c>, nodes going left when <c>x &lt;= threshold</c>,
    /// children &lt; 0 meaning leaf <c>~child</c> of that tree's <c>leaf_value</c>.
    /// </summary>
    public static TreeEnsemble ReadNative(JsonElement e, int featureCount)
    {
        var aggregation = e.GetProperty("aggregation").GetString() switch
        {
            "sum-sigmoid" => Aggregation.SumSigmoid,
            "sum" => Aggregation.Sum,
            "average" => Aggregation.Average,
            var other => throw new ModelFormatException($"unknown aggregation '{other}'"),
        };
        var baseMargin = e.TryGetProperty("base_margin", out var bm) ? (float)bm.GetDouble() : 0f;
        var nodes = new List<TreeNode>();
        var defaults = new List<bool>();
        var leaves = new List<float>();
        var roots = new List<int>();
        foreach (var t in e.GetProperty("trees").EnumerateArray())
        {
            var feature = Ints(t, "feature");
            var threshold = Floats(t, "threshold");
            var left = Ints(t, "left");
            var right = Ints(t, "right");
            var dleft = t.TryGetProperty("default_left", out var dl) ? dl.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.True || (x.ValueKind == JsonValueKind.Number && x.GetInt32() != 0)).ToArray() : new bool[feature.Length];
            var leafValues = Floats(t, "leaf_value");
            int nodeBase = nodes.Count, leafBase = leaves.Count;
            int Map(int c) => c >= 0 ? c + nodeBase : ~(~c + leafBase);
            for (var i = 0; i < feature.Length; i++)
            {
                nodes.Add(new TreeNode(feature[i], threshold[i], Map(left[i]), Map(right[i])));
                defaults.Add(dleft[i]);
            }

            leaves.AddRange(leafValues);
            roots.Add(feature.Length > 0 ? nodeBase : ~leafBase);
        }

        return new TreeEnsemble("trees", featureCount, [.. nodes], [.. defaults], [.. leaves], [.. roots], aggregation, baseMargin);
    }

    private static double Logit(double p) => Math.Log(p / (1 - p));

    private static double ParseNumber(JsonElement obj, string name, double fallback)
    {
        if (!obj.TryGetProperty(name, out var v))
        {
            return fallback;
        }

        // XGBoost writes numbers as strings ("5E-1"); 2.1+ writes vectors as "[5E-1]".
        var s = v.ValueKind == JsonValueKind.String ? v.GetString()!.Trim('[', ']') : v.GetRawText();
        return double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static List<double> Flatten(JsonElement v)
    {
        var result = new List<double>();
        void Walk(JsonElement x)
        {
            if (x.ValueKind == JsonValueKind.Array)
            {
                foreach (var c in x.EnumerateArray())
                {
                    Walk(c);
                }
            }
            else
            {
                result.Add(x.GetDouble());
            }
        }

        Walk(v);
        return result;
    }

    private static int[] Ints(JsonElement e, string name) =>
        Array(e, name).Select(x => x.ValueKind switch
        {
            JsonValueKind.True => 1,
            JsonValueKind.False => 0,
            _ => x.GetInt32(),
        }).ToArray();

    private static double[] Doubles(JsonElement e, string name) => Array(e, name).Select(x => x.GetDouble()).ToArray();

    private static float[] Floats(JsonElement e, string name) => Array(e, name).Select(x => x.GetSingle()).ToArray();

    private static IEnumerable<JsonElement> Array(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var a) || a.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException($"tree has no '{name}' array");
        }

        return a.EnumerateArray();
    }

    /// <summary>
    /// Builds the flattened arrays from trees given as node lists where every node, split or
    /// leaf, has an index: splits keep a compacted node index, leaves get a leaf index.
    /// </summary>
    private sealed class FlatBuilder(int capacity)
    {
        private readonly int[] _map = Enumerable.Repeat(int.MinValue, capacity).ToArray();
        private readonly List<(int Feature, float Threshold, int Left, int Right, bool DefaultLeft)> _splits = [];
        private readonly List<float> _leaves = [];

        public void AddLeaf(int source, float value)
        {
            _map[source] = ~_leaves.Count;
            _leaves.Add(value);
        }

        public void AddSplit(int source, int feature, float threshold, int left, int right, bool defaultLeft)
        {
            _map[source] = _splits.Count;
            _splits.Add((feature, threshold, left, right, defaultLeft));
        }

        public int Root(int source) => _map[source];

        public TreeNode[] Nodes() => _splits.Select(s => new TreeNode(s.Feature, s.Threshold, Resolve(s.Left), Resolve(s.Right))).ToArray();

        public bool[] DefaultLeft() => _splits.Select(s => s.DefaultLeft).ToArray();

        public float[] Leaves() => [.. _leaves];

        private int Resolve(int source)
        {
            if (source < 0 || source >= _map.Length || _map[source] == int.MinValue)
            {
                throw new ModelFormatException($"tree child {source} does not exist");
            }

            return _map[source];
        }
    }
}
