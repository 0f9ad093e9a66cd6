"""Generated user data for the trainer's acceptance tests and `evals/bench_user_data.py`.

* `mixed_csv`: a table with 10% missing values in three numeric columns, a categorical column with
  gaps, a free-text column and an identifier column; binary target.
* `regression_csv`: a numeric target (house-price-like) with a categorical column.
* `shapes_folder`: an image folder of 32x32 PNGs, one sub-folder per class (circle, square, triangle,
  stripes), shapes at random positions, sizes and colours over noisy backgrounds.
"""

from __future__ import annotations

from pathlib import Path

POSITIVE = ("great", "excellent", "love", "fast", "reliable", "happy")
NEGATIVE = ("poor", "broken", "refund", "slow", "late", "disappointed")
NEUTRAL = ("the", "order", "arrived", "product", "service", "box", "item", "today", "week", "again")


def mixed_csv(path: str | Path, n: int = 2000, seed: int = 0) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    num1, num2 = rng.normal(0, 1, n), rng.normal(0, 1, n)
    num3, num4 = rng.uniform(0, 10, n), rng.normal(5, 2, n)
    cities = np.array(["north", "south", "east", "west", "central"])
    effect = {"north": 1.0, "south": -1.0, "east": 0.5, "west": -0.5, "central": 0.0}
    city = cities[rng.integers(0, 5, n)]
    sentiment = rng.normal(0, 1, n)
    comments = []
    for s in sentiment:
        pool = POSITIVE if s > 0 else NEGATIVE
        words = list(rng.choice(NEUTRAL, 4)) + list(rng.choice(pool, 1 + int(abs(s) > 0.7)))
        rng.shuffle(words)
        comments.append(" ".join(words))
    logit = 1.5 * num1 - 1.0 * num2 + 0.3 * (num3 - 5) + np.vectorize(effect.get)(city) + 1.2 * np.sign(sentiment) \
        + rng.normal(0, 0.7, n)
    df = pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(n)], "num1": num1, "num2": num2, "num3": num3,
                       "num4": num4, "city": city, "comment": comments,
                       "churn": np.where(logit > 0, "yes", "no")})
    for col in ("num1", "num2", "num3"):
        df.loc[rng.random(n) < 0.10, col] = np.nan
    df.loc[rng.random(n) < 0.10, "city"] = None
    path = Path(path)
    df.to_csv(path, index=False)
    return path


def regression_csv(path: str | Path, n: int = 600, seed: int = 0) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    area = rng.uniform(40, 200, n)
    rooms = rng.integers(1, 6, n)
    district = np.array(["a", "b", "c"])[rng.integers(0, 3, n)]
    price = 1500 * area + 8000 * rooms + np.vectorize({"a": 50000, "b": 0, "c": -30000}.get)(district) \
        + rng.normal(0, 10000, n)
    df = pd.DataFrame({"area": area, "rooms": rooms, "district": district, "price": price})
    df.loc[rng.random(n) < 0.05, "area"] = np.nan
    path = Path(path)
    df.to_csv(path, index=False)
    return path


def _draw(kind: str, rng):
    import numpy as np

    size = 32
    img = rng.normal(0.5, 0.08, (size, size, 3)).clip(0, 1)
    bg = rng.uniform(0.1, 0.4, 3)
    img = (img * 0.3 + bg).clip(0, 1)
    color = rng.uniform(0.6, 1.0, 3)
    yy, xx = np.mgrid[0:size, 0:size]
    r = rng.uniform(7, 11)
    cy, cx = rng.uniform(r + 1, size - r - 1, 2)
    if kind == "circle":
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r ** 2
    elif kind == "square":
        mask = (abs(yy - cy) <= r * 0.85) & (abs(xx - cx) <= r * 0.85)
    elif kind == "triangle":
        mask = (yy - (cy - r) >= 0) & (yy - (cy + r) <= 0) & (abs(xx - cx) <= (yy - (cy - r)) / 2)
    else:  # stripes: horizontal bands over the whole image
        period = rng.integers(4, 7)
        mask = ((yy + rng.integers(0, period)) // (period // 2)) % 2 == 0
    img[mask] = color
    return (img * 255).astype("uint8")


def shapes_folder(root: str | Path, per_class: int = 60, seed: int = 0,
                  classes: tuple[str, ...] = ("circle", "square", "triangle")) -> Path:
    """An image folder `root/<class>/<i>.png` of 32x32 RGB images."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    root = Path(root)
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(_draw(c, rng)).save(root / c / f"{i:03d}.png")
    return root
