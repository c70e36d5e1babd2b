"""Row builders and a value reader shared by the KPI tests."""


def customer(external_id, signed_up_at, plan="", churned_at="", is_test="false"):
    return {"external_id": external_id, "signed_up_at": signed_up_at, "plan": plan, "churned_at": churned_at,
            "is_test": is_test}


def event(external_id, user, occurred_at, name="visit"):
    return {"external_id": external_id, "user_external_id": user, "name": name, "occurred_at": occurred_at}


def value(snapshot):
    """A snapshot's value rounded for comparisons; None without a snapshot."""
    return None if snapshot is None else round(snapshot.value, 4)
