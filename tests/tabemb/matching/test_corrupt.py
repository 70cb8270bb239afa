"""tabemb._matching._corrupt: generated people and the FEBRL-style corruptor."""

import numpy as np
import pandas as pd

from tabemb import corrupt_records, generate_people


# -- corruptor ----------------------------------------------------------------------------------
def test_corruptor_clusters_and_determinism():
    df = generate_people(200, random_state=0)
    assert df.shape == (200, 10) and df.index.is_unique
    rec, ent = corrupt_records(df, random_state=1)
    rec2, ent2 = corrupt_records(df, random_state=1)
    pd.testing.assert_frame_equal(rec, rec2)
    pd.testing.assert_series_equal(ent, ent2)
    sizes = ent.value_counts()
    assert sizes.min() >= 1 and sizes.max() <= 5 and (sizes == 1).sum() > (sizes == 5).sum()
    assert set(ent) == set(df.index) and rec.index.is_unique
    dup = [k for k in rec.index if "-dup-" in k]
    assert all(ent[k] == k.split("-dup-")[0] for k in dup)
    # every duplicate differs from its original somewhere
    diff = [not rec.loc[k].equals(df.loc[ent[k]].astype(object)) for k in dup]
    assert np.mean(diff) > 0.9


