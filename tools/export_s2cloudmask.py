#!/usr/bin/env python3
"""Convert the pickled models of the Python package s2cloudmask into S2CloudMask model files.

Run it in the Python environment that already runs s2cloudmask (numpy, joblib, scikit-learn,
xgboost). Each pickle holds (model, feature_expressions); this writes NAME.model.json:

  - scikit-learn DecisionTreeClassifier -> {"kind": "sklearn-decision-tree", children_left,
    children_right, feature, threshold, value (class counts), classes}
  - XGBoost XGBClassifier -> {"kind": "xgboost-json", "model": Booster.save_model JSON}

Then point the service at the folder:

  Models__Directories__0=/path/to/folder ./scripts/run.sh

Usage:
  export_s2cloudmask.py --out DIR [PICKLE ...]
With no PICKLE, the *.pkl.xz files of the installed s2cloudmask package are used.
"""
import argparse
import glob
import json
import os
import sys

BANDS = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]

# File name in s2cloudmask -> (service model name, 3x3 opening of the probability?)
KNOWN = {
    "fast-spectral-model": ("fast", True),
    "spectral-model": ("spectral", True),
    "spectral-model-2018": ("spectral", True),
    "fast-shadow-model": ("fast-shadow", False),
}


def install_shims():
    """Let current scikit-learn and XGBoost read pickles written by their 2018 versions."""
    import sklearn.preprocessing._label
    import sklearn.tree._classes
    import xgboost
    from xgboost import core

    xgboost.set_config(verbosity=0)  # no "model from XGBoost < 1.0.0" warning for each old pickle

    # Module paths the old pickles name that newer scikit-learn moved.
    sys.modules.setdefault("sklearn.preprocessing.label", sklearn.preprocessing._label)
    sys.modules.setdefault("sklearn.tree.tree", sklearn.tree._classes)

    # Old XGBoost pickled the booster as a raw byte buffer under "handle".
    def booster_setstate(self, state):
        raw = state.get("handle")
        rest = dict(state)
        rest["handle"] = None
        self.__dict__.update(rest)
        loaded = core.Booster()
        loaded.load_model(bytearray(raw))
        self.handle = loaded.handle
        loaded.handle = None

    core.Booster.__setstate__ = booster_setstate


def sklearn_tree(clf):
    t = clf.tree_
    value = t.value[:, 0, :].astype(float)
    # scikit-learn >= 1.4 stores class fractions; the file format keeps training counts.
    if value.size and abs(value.sum(axis=1) - 1.0).max() < 1e-9:
        value = value * t.weighted_n_node_samples[:, None]
    classes = [c.item() if hasattr(c, "item") else c for c in clf.classes_]
    return {
        "kind": "sklearn-decision-tree",
        "split_rule": "feature <= threshold goes left",
        "classes": classes,
        "children_left": [int(x) for x in t.children_left],
        "children_right": [int(x) for x in t.children_right],
        "feature": [int(x) for x in t.feature],
        "threshold": [float(x) for x in t.threshold],
        "value": [[float(a) for a in row] for row in value],
    }, f"DecisionTreeClassifier, depth {t.max_depth}"


def xgboost_model(clf):
    booster = clf.get_booster() if hasattr(clf, "get_booster") else clf._Booster
    model = json.loads(bytes(booster.save_raw("json")).decode("utf-8"))
    trees = model["learner"]["gradient_booster"]["model"]["trees"]
    depth = getattr(clf, "max_depth", None)
    return {"kind": "xgboost-json", "model": model}, f"XGBClassifier {len(trees)} trees depth {depth}"


def convert(path):
    import joblib

    base = os.path.basename(path)
    stem = base.split(".pkl")[0]
    name, opening = KNOWN.get(stem, (stem.replace("-model", ""), "shadow" not in stem))
    clf, expressions = joblib.load(path)
    kind = type(clf).__name__
    if kind == "DecisionTreeClassifier":
        ensemble, note = sklearn_tree(clf)
    elif kind in ("XGBClassifier", "Booster"):
        ensemble, note = xgboost_model(clf)
    else:
        raise SystemExit(f"{path}: unsupported model type {kind}")
    if "shadow" in name:
        note += "; needs ref (geomedian)"
    return name, {
        "name": name,
        "bands": BANDS,
        "reflectance_scale": "0..1 (surface reflectance, i.e. DN / 10000)",
        "features": [str(e) for e in expressions],
        "ensemble": ensemble,
        "postprocess": {"opening": 3} if opening else {},
        "threshold": 0.5,
        "source": {
            "repository": "daleroberts/s2cloudmask",
            "licence": "Apache-2.0",
            "path": f"s2cloudmask/models/{base}",
            "note": note,
        },
    }


def default_pickles():
    try:
        import s2cloudmask
    except ImportError:
        raise SystemExit("no PICKLE given and s2cloudmask is not importable: pass the .pkl.xz files")
    return sorted(glob.glob(os.path.join(os.path.dirname(s2cloudmask.__file__), "models", "*.pkl*")))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for the NAME.model.json files")
    ap.add_argument("pickles", nargs="*", help="s2cloudmask model pickles (*.pkl.xz)")
    args = ap.parse_args(argv)
    install_shims()
    os.makedirs(args.out, exist_ok=True)
    for path in args.pickles or default_pickles():
        name, doc = convert(path)
        target = os.path.join(args.out, name + ".model.json")
        with open(target, "w", encoding="utf-8") as f:
            json.dump(doc, f, separators=(",", ":"))
        print(f"{path} -> {target}")
    print(f"use them with: Models__Directories__0={os.path.abspath(args.out)}")


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore")
    main()
