"""`schema` and `api` checks: what app.json declares, and flows through the REST API as real
users (see model.ApiCheck for the flows)."""

from __future__ import annotations

from appwright.tasks.graders.common import (Context, Fail, answer, create, expect, items_of, linked, map_record,
                                            matches, resolve_entity, short)
from appwright.tasks.graders.env import AppEnv
from appwright.tasks.graders.meaning import same_family
from appwright.tasks.model import ApiCheck, SchemaCheck

def grade_schema(env: AppEnv, check: SchemaCheck, ctx: Context) -> str:
    if env.entity(check.entity) is None and ctx.missing:
        raise Fail("; ".join(ctx.missing))
    entity = resolve_entity(env, check.entity)
    declared = {k.lower(): (k, f.type) for k, f in env.manifest.entities[entity].fields.items()}
    problems = [m for m in ctx.missing if f" in {entity} " in m + " "]  # this entity's (meaning.py says where)
    for name, family in check.fields.items():
        if name.lower() not in declared:
            problems.append(f"no field {name!r}")
            continue
        got = declared[name.lower()][1]
        if not same_family(family, got):
            problems.append(f"{name}: type {got}, expected {family}")
        elif name in check.refs:
            target = env.manifest.entities[entity].fields[declared[name.lower()][0]].entity or ""
            if target.lower() != check.refs[name].lower():
                problems.append(f"{name}: a ref to {target}, expected one to {check.refs[name]}")
    if check.signup and env.manifest.auth.signup != check.signup:
        problems.append(f'auth.signup is "{env.manifest.auth.signup}", expected "{check.signup}"')
    expect(not problems, f"{entity}: " + "; ".join(problems) + f" (declared: {', '.join(k for k, _ in declared.values())})")
    return f"{entity} declares {', '.join(check.fields) or 'the entity'}" + (
        f"; sign-up is {check.signup}" if check.signup else "")


def grade_api(env: AppEnv, check: ApiCheck, ctx: Context) -> str:
    entity = resolve_entity(env, check.entity)
    record = map_record(env, entity, check.record)
    a = env.user("owner")
    url = env.api(entity)

    if check.flow == "rejects":
        done, before = [], len(items_of(a.get(url, params={"limit": 200})))
        for bad in check.bad:
            body = linked(env, a, {**record, **map_record(env, entity, bad)})
            r = a.post(url, json=body)
            expect(400 <= r.status_code < 500, f"POST {url} with {short(bad)} should be refused; got {answer(r)}")
            done.append(f"{short(bad)} -> {r.status_code}")
        after = len(items_of(a.get(url, params={"limit": 200})))
        expect(after == before, f"refused writes left {after - before} record(s) behind")
        return "refused: " + "; ".join(done)

    if check.flow == "submit":
        made = create(env, env.anonymous(), entity, record)
        admin = env.user("admin", role="admin")
        listed = items_of(admin.get(url))
        expect(any(i.get("id") == made.get("id") for i in listed),
               f"a signed-out visitor's record is not in an admin's GET {url}: {short(listed)}")
        r = admin.get(env.api(entity, made["id"]))
        expect(r.status_code == 200 and matches(r.json(), record), f"an admin: GET {env.api(entity, made['id'])} -> "
                                                                   f"{answer(r)}")
        return "a signed-out visitor sent a record; an admin lists and reads it"

    made = create(env, a, entity, record)
    rid = made.get("id")
    expect(isinstance(rid, str) and rid, f"POST {url} answered no id: {short(made)}")
    expect(matches(made, record), f"POST {url} stored {short(made)}, not what was sent {short(record)}")
    if check.flow == "crud":
        expect(made.get("owner") == a.user["id"], f"the new record's owner is {made.get('owner')!r}, not its creator")
        listed = items_of(a.get(url))
        expect(any(i.get("id") == rid for i in listed), f"GET {url} does not list the new record: {short(listed)}")
        r = a.get(env.api(entity, rid))
        expect(r.status_code == 200 and matches(r.json(), record), f"GET {env.api(entity, rid)} -> {answer(r)}")
        change = map_record(env, entity, check.change)
        r = a.patch(env.api(entity, rid), json=change)
        expect(r.status_code == 200 and matches(r.json(), change),
               f"PATCH {env.api(entity, rid)} {short(change)} -> {answer(r)}")
        r = a.delete(env.api(entity, rid))
        expect(r.status_code == 204, f"DELETE {env.api(entity, rid)} -> {answer(r)}")
        r = a.get(env.api(entity, rid))
        expect(r.status_code == 404, f"GET after DELETE -> {answer(r)}, expected 404")
        return "owner created, listed, read, changed and deleted a record"

    reader = env.anonymous() if check.flow == "public_read" else env.user("reader")
    who = "a signed-out visitor" if check.flow == "public_read" else "another signed-in user"
    r = reader.get(url)
    expect(r.status_code == 200 and any(i.get("id") == rid for i in items_of(r)),
           f"{who} should see the owner's record in GET {url}; got {answer(r)}")
    r = reader.get(env.api(entity, rid))
    expect(r.status_code == 200, f"{who}: GET {env.api(entity, rid)} -> {answer(r)}, expected 200")
    return f"{who} lists and reads the owner's record"
