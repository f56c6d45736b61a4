"""`isolation` checks: another user and a signed-out visitor against the owner's record.

The owner creates the record. Then, through the REST API:
1. another signed-in user may not read it (by id or in a list) unless `others_read`;
2. a signed-out visitor may not unless `anonymous_read`;
3. neither may change or delete it, whatever they may read: the record is unchanged after;
4. the owner cannot be spoofed: a record created with someone else's `owner`, or changed
   to carry it, never ends up owned by them.

With `only_admins` (submit_only) a signed-out visitor sends the record instead, and then its
sender, a signed-in user and a signed-out visitor may not read, change or delete it, while an
admin reads it: what a contact form promises.

Where only admins write (a task with `admin_write`, `env.author_role`), the owner is an admin,
and 4. becomes: another signed-in user and a signed-out visitor may not add a record at all.
"""

from __future__ import annotations

from appwright.tasks.graders.common import (Context, answer, create, expect, items_of, linked, map_record,
                                            matches, resolve_entity)
from appwright.tasks.graders.env import AppEnv
from appwright.tasks.model import IsolationCheck


def grade_isolation(env: AppEnv, check: IsolationCheck, ctx: Context) -> str:
    if check.only_admins:
        return admins_only(env, check.entity, check.record)
    return isolate(env, check.entity, check.record, check.others_read, check.anonymous_read)


def admins_only(env: AppEnv, entity_name: str, record: dict) -> str:
    entity = resolve_entity(env, entity_name)
    record = map_record(env, entity, record)
    sender, user, anon = env.user("sender"), env.user("other"), env.anonymous()
    for author in (sender, anon):  # a signed-in sender first: its record shows a reader that should not read
        made = create(env, author, entity, record)
        rid = made["id"]
        one, many = env.api(entity, rid), env.api(entity)
        for who, client in (("its sender", author), ("a signed-in user", user), ("a signed-out visitor", anon)):
            r = client.get(one)
            expect(r.status_code in (401, 403, 404), f"{who}: GET {one} -> {answer(r)}; only admins may read it")
            r = client.get(many)
            expect(not any(i.get("id") == rid for i in items_of(r)), f"{who}: GET {many} lists a record only "
                                                                     "admins may read")
            r = client.patch(one, json=record)
            expect(r.status_code in (401, 403, 404), f"{who}: PATCH {one} -> {answer(r)}; only admins may change it")
            r = client.delete(one)
            expect(r.status_code in (401, 403, 404), f"{who}: DELETE {one} -> {answer(r)}; only admins may delete it")
    admin = env.user("admin", role="admin")
    r = admin.get(env.api(entity, made["id"]))
    expect(r.status_code == 200 and matches(r.json(), record), f"an admin: GET {env.api(entity, made['id'])} -> "
                                                               f"{answer(r)}, expected the record")
    return "anyone sends one; its sender, other users and visitors cannot read, change or delete it; an admin reads it"


def isolate(env: AppEnv, entity_name: str, record: dict, others_read: bool, anonymous_read: bool) -> str:
    entity = resolve_entity(env, entity_name)
    record = map_record(env, entity, record)
    owner, other, anon = env.user("owner"), env.user("other"), env.anonymous()
    made = create(env, owner, entity, record)
    one, many = env.api(entity, made["id"]), env.api(entity)
    done = []

    # 1-2. Reads.
    for who, client, may in (("another user", other, others_read), ("a signed-out visitor", anon, anonymous_read)):
        if may:
            continue
        r = client.get(one)
        expect(r.status_code in (401, 403, 404), f"{who}: GET {one} -> {answer(r)}; the record is private")
        r = client.get(many)
        expect(not any(i.get("id") == made["id"] for i in items_of(r)),
               f"{who}: GET {many} lists the owner's private record")
        done.append(f"{who} cannot read it")

    # 3. Writes.
    first = next(iter(record))
    for who, client in (("another user", other), ("a signed-out visitor", anon)):
        r = client.patch(one, json={first: record[first]})
        expect(r.status_code in (401, 403, 404), f"{who}: PATCH {one} -> {answer(r)}; only the owner may change it")
        r = client.delete(one)
        expect(r.status_code in (401, 403, 404), f"{who}: DELETE {one} -> {answer(r)}; only the owner may delete it")
    r = owner.get(one)
    expect(r.status_code == 200 and matches(r.json(), record), f"the owner's record changed: GET {one} -> {answer(r)}")
    done.append("nobody else can change or delete it")

    # 4. Only admins add records; else owner spoofing.
    if env.author_role:
        for who, client in (("another user", other), ("a signed-out visitor", anon)):
            r = client.post(many, json=linked(env, owner, record))
            expect(r.status_code in (401, 403), f"{who}: POST {many} -> {answer(r)}; only users with the "
                                                f"{env.author_role} role may add one")
        done.append(f"only the {env.author_role} role adds one")
        return "; ".join(done)
    r = other.post(many, json={**linked(env, other, record), "owner": owner.user["id"]})
    expect(not (r.status_code == 201 and r.json().get("owner") == owner.user["id"]),
           f"another user created a record owned by the owner: POST with \"owner\" -> {answer(r)}")
    mine = create(env, other, entity, record)
    r = other.patch(env.api(entity, mine["id"]), json={"owner": owner.user["id"]})
    expect(not (r.status_code == 200 and r.json().get("owner") == owner.user["id"]),
           f"a user handed a record to the owner with PATCH {{\"owner\"}} -> {answer(r)}")
    done.append("owner cannot be spoofed")
    return "; ".join(done)
