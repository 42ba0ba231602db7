"""Compare two roadmap snapshots (pure function over their JSON)."""

SNAPSHOT_FIELDS = ("title", "status", "horizon", "start_date", "end_date")


def snapshot_diff(old: dict, new: dict) -> dict:
    """What changed from `old` to `new`.

    A snapshot is {"initiatives": [{"id", "title", "status", "horizon", "start_date", "end_date"}, ...]}.
    Returns {"added": [...], "removed": [...], "moved": [...], "status_changed": [...],
    "horizon_changed": [...]}; moved/changed entries carry both values ("from"/"to").
    """
    before = {item["id"]: item for item in (old or {}).get("initiatives", [])}
    after = {item["id"]: item for item in (new or {}).get("initiatives", [])}
    result = {"added": [], "removed": [], "moved": [], "status_changed": [], "horizon_changed": []}
    for key in sorted(after.keys() - before.keys()):
        result["added"].append(after[key])
    for key in sorted(before.keys() - after.keys()):
        result["removed"].append(before[key])
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        title = b.get("title") or a.get("title")
        if (a.get("start_date"), a.get("end_date")) != (b.get("start_date"), b.get("end_date")):
            result["moved"].append({"id": key, "title": title,
                                    "from": {"start_date": a.get("start_date"), "end_date": a.get("end_date")},
                                    "to": {"start_date": b.get("start_date"), "end_date": b.get("end_date")}})
        if a.get("status") != b.get("status"):
            result["status_changed"].append({"id": key, "title": title, "from": a.get("status"),
                                             "to": b.get("status")})
        if a.get("horizon") != b.get("horizon"):
            result["horizon_changed"].append({"id": key, "title": title, "from": a.get("horizon"),
                                              "to": b.get("horizon")})
    return result
