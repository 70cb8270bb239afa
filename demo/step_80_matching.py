"""Record matching: deduplicate corrupted person records and link two tables (tabemb.match)"""

from __future__ import annotations

from pathlib import Path


def run(workdir: Path) -> None:
    import torch

    from tabemb import (
        RecordMatcher,
        blocking_metrics,
        cluster_metrics,
        clusters_to_pairs,
        corrupt_records,
        generate_people,
        pair_metrics,
    )

    torch.set_num_threads(1)
    people = generate_people(800, random_state=0)
    records, entity = corrupt_records(people, random_state=1)  # clusters of 1-5 records (Zipf)
    true = clusters_to_pairs(entity)
    print(f"{len(records)} records of {len(people)} people, {len(true)} true duplicate pairs")
    print(records.sort_index().head(6).to_string())

    matcher = RecordMatcher(n_neighbors=5, random_state=0)
    res = matcher.fit_predict(records)
    bm = blocking_metrics(res.candidates, true, len(records))
    print(f"blocking: {bm['n_candidates']} candidate pairs, pair completeness {bm['pair_completeness']:.4f}, "
          f"reduction ratio {bm['reduction_ratio']:.4f}")
    pm = pair_metrics(clusters_to_pairs(res.clusters), true, unordered=True)
    cm = cluster_metrics(res.clusters, entity)
    print(f"dedupe (unsupervised Fellegi-Sunter): pair precision {pm['precision']:.4f} "
          f"recall {pm['recall']:.4f} F1 {pm['f1']:.4f}; B-cubed F1 {cm['bcubed_f1']:.4f}")
    print("learned m / u of the surname comparison levels (worst .. exact):")
    f = 1 + [c for c, _ in matcher.comparators_].index("surname")
    print("  m", matcher.fs_.m_[f].round(3), "\n  u", matcher.fs_.u_[f].round(3))

    # linkage: originals against one duplicate each, with renamed columns
    dup = records[records.index.str.endswith("-dup-0")]
    a = people.loc[entity[dup.index].to_numpy()]
    b = dup.rename(columns={"given_name": "first", "surname": "last"})
    res = RecordMatcher(mapping={"given_name": "first", "surname": "last"}, n_neighbors=3,
                        one_to_one=True, random_state=0).fit_predict(a, b)
    true_links = list(zip(entity[dup.index], dup.index, strict=True))
    pm = pair_metrics(res.pairs, true_links)
    print(f"link {len(a)} x {len(b)}: precision {pm['precision']:.4f} recall {pm['recall']:.4f} "
          f"F1 {pm['f1']:.4f}")
    matcher.save(workdir / "matcher")
    again = RecordMatcher.load(workdir / "matcher").predict(records)
    print("saved and reloaded matcher gives the same clusters:",
          bool((again.clusters["cluster"] == matcher.predict(records).clusters["cluster"]).all()))
