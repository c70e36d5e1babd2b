"""Row builders and a value reader shared by the KPI tests."""


def customer(external_id, signed_up_at, plan="", churned_at="", is_test="false"):
    return {"external_id": external_id, "signed_up_at": signed_up_at, "plan": plan, "churned_at": churned_at,
            "is_test": is_test}


def event(external_id, user, occurred_at, name="visit"):
    return {"external_id": external_id, "user_external_id": user, "name": name, "occurred_at": occurred_at}


def value(snapshot):
    """A snapshot's value rounded for comparisons; None without a snapshot."""
    return None if snapshot is None else round(snapshot.value, 4)


# --- Like-for-like comparisons (issue #10 part 2): rows on Nov 1–5, Nov 20 and Dec 1–5 ------

def social_mention(external_id, posted_at):
    return {"external_id": external_id, "platform": "twitter", "posted_at": posted_at, "text": "about us",
            "sentiment": "positive"}


def csat_answers(prefix, day, positive, negative):
    """``positive`` answers of 5 and ``negative`` of 2, all on ``day``."""
    scores = [5] * positive + [2] * negative
    return [{"external_id": f"{prefix}{i}", "kind": "csat", "score": str(score), "responded_at": f"{day}T10:00"}
            for i, score in enumerate(scores)]


# Own-brand mentions: Nov 1–5 has 6 (the last at 23:30 local on Nov 5), Nov 6 00:30 local
# one more (outside Nov 1–5), Nov 20 forty: November 47. Dec 1–5: 9.
LIKE_FOR_LIKE_MENTIONS = (
    [social_mention(external_id, at) for external_id, at in (
        ("n1", "2025-11-01T09:00"), ("n2", "2025-11-01T18:00"), ("n3", "2025-11-03T12:00"),
        ("n4", "2025-11-05T08:00"), ("n5", "2025-11-05T20:00"), ("n6", "2025-11-05T23:30"),
        ("n7", "2025-11-06T00:30"))]
    + [social_mention(f"m{i}", "2025-11-20T12:00") for i in range(40)]
    + [social_mention(f"d{i}", "2025-12-02T12:00") for i in range(4)]
    + [social_mention(f"e{i}", "2025-12-05T09:00") for i in range(5)])
# CSAT: Nov 1–5 4 positive of 10 (40%); Nov 20 30 of 30: November 34 of 40 (85%). Dec 1–5
# 8 of 10 (80%).
LIKE_FOR_LIKE_ANSWERS = (csat_answers("a", "2025-11-02", 2, 3) + csat_answers("b", "2025-11-04", 2, 3)
                         + csat_answers("c", "2025-11-20", 30, 0) + csat_answers("d", "2025-12-03", 8, 2))
# Customer retention ((E − N) / S): a, b, c signed up in October; b churns Nov 3, c Nov 20;
# d signs up Nov 2, e Nov 21, f Dec 2.
LIKE_FOR_LIKE_CUSTOMERS = [
    customer("a", "2025-10-01T10:00"), customer("b", "2025-10-01T10:00", churned_at="2025-11-03T10:00"),
    customer("c", "2025-10-01T10:00", churned_at="2025-11-20T10:00"), customer("d", "2025-11-02T10:00"),
    customer("e", "2025-11-21T10:00"), customer("f", "2025-12-02T10:00")]
