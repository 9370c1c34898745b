"""The generated EMQX 5 configuration: the ACL file parsed back as Erlang
terms, the built-in database bootstrap CSV checked against the passwords, and
the per-node cluster config. (EMQX itself is not installable on this machine:
no Debian package, no PyPI wheel; these tests check the files against the
formats EMQX documents and its source parses.)"""

from __future__ import annotations

import csv
import hashlib
import io
import re

import pytest
from typer.testing import CliRunner

from broker.acl import topic_rules
from broker.emqx_config import ClusterSettings, acl_text, emqx_conf_text, users_csv, write_emqx_config
from broker.fleet import EMQX_PBKDF2_ITERATIONS, DeviceRecord, Fleet, FleetError

DEVICES = (("admin", "admin", []), ("kiosk-1", "kiosk", ["lobby"]), ("kiosk-2", "kiosk", ["lobby", "floor2"]),
           ("hall-1", "vrhall", ["hall"]), ("robot-1", "robot", ["robots"]))


@pytest.fixture(scope="module")
def fleet_and_passwords():
    fleet, passwords = Fleet(), {}
    for device_id, kind, groups in DEVICES:
        _, passwords[device_id] = fleet.provision(device_id, kind=kind, groups=groups)
    return fleet, passwords


# -- a small reader for the Erlang terms EMQX's file authorizer consults ----------------
_TOKEN = re.compile(r'\s*(?:(%%[^\n]*)|("(?:[^"\\]|\\.)*")|([a-z][A-Za-z0-9_]*)|([{}\[\],.]))')


def erlang_terms(text: str) -> list:
    """Parse ``Term.`` sequences of tuples, lists, atoms and strings (what acl.conf uses)."""
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"cannot read Erlang term at {text[pos:pos + 30]!r}")
        pos = match.end()
        comment, string, atom, punct = match.groups()
        if comment:
            continue
        if string:
            tokens.append(("str", re.sub(r"\\(.)", r"\1", string[1:-1])))
        elif atom:
            tokens.append(("atom", atom))
        else:
            tokens.append(("p", punct))

    def parse(i: int):
        kind, value = tokens[i]
        if kind == "str":
            return value, i + 1
        if kind == "atom":
            return ("atom", value), i + 1
        if value in "{[":
            close = "}" if value == "{" else "]"
            items, i = [], i + 1
            while tokens[i] != ("p", close):
                item, i = parse(i)
                items.append(item)
                if tokens[i] == ("p", ","):
                    i += 1
                elif tokens[i] != ("p", close):
                    raise ValueError(f"expected , or {close} at token {i}")
            return (tuple(items) if value == "{" else list(items)), i + 1
        raise ValueError(f"unexpected {value!r}")

    terms, i = [], 0
    while i < len(tokens):
        term, i = parse(i)
        if tokens[i] != ("p", "."):
            raise ValueError("a term must end with a full stop")
        terms.append(term)
        i += 1
    return terms


def test_acl_has_one_block_per_device_with_the_shared_topic_rules_and_denies_the_rest(fleet_and_passwords):
    fleet, _ = fleet_and_passwords
    terms = erlang_terms(acl_text(fleet))
    assert terms[-1] == (("atom", "deny"), ("atom", "all")), "the file ends in {deny, all}."
    rules = terms[:-1]
    by_user: dict[str, dict[str, set[str]]] = {}
    order = []
    for permission, who, action, topics in rules:
        assert permission == ("atom", "allow")
        assert who[0] == ("atom", "username")
        user = who[1]
        if user not in by_user:
            order.append(user)
        by_user.setdefault(user, {}).setdefault(action[1], set()).update(topics)
    assert order == sorted(d.id for d in fleet.devices), "one contiguous block per device"
    assert len(order) == len(set(order))
    for device_id, kind, groups in DEVICES:
        expected = topic_rules(device_id=device_id, kind=kind, groups=groups)
        got = by_user[device_id]
        readable = got.get("subscribe", set()) | got.get("all", set())
        writable = got.get("publish", set()) | got.get("all", set())
        assert readable == set(expected.read), device_id
        assert writable == set(expected.write), device_id


def test_a_device_cannot_reach_another_devices_topics_in_the_acl(fleet_and_passwords):
    fleet, _ = fleet_and_passwords
    text = acl_text(fleet)
    block = [t for t in erlang_terms(text)[:-1] if t[1][1] == "kiosk-1"]
    topics = {topic for rule in block for topic in rule[3]}
    assert topics and not any("kiosk-2" in t or "/hall-1/" in t for t in topics)


def test_erlang_strings_are_escaped():
    # device ids are topic segments (no quotes possible); the quoting is still total
    from broker.emqx_config import _erlang_string

    text = 'we"ird\\id'
    assert erlang_terms(f"{{allow, {{username, {_erlang_string(text)}}}, all, []}}.")[0][1][1] == text


def test_bootstrap_csv_has_one_row_per_device_hashed_as_emqx_pbkdf2_checks_it(fleet_and_passwords):
    fleet, passwords = fleet_and_passwords
    rows = list(csv.DictReader(io.StringIO(users_csv(fleet))))
    assert [r["user_id"] for r in rows] == sorted(passwords)
    for row in rows:
        assert set(row) == {"user_id", "password_hash", "salt", "is_superuser"}
        assert row["is_superuser"] == "false"
        assert re.fullmatch(r"[0-9a-f]{32}", row["salt"])
        # EMQX: pbkdf2(mac_fun, password, salt, iterations) as hex, salt = the column's bytes
        expected = hashlib.pbkdf2_hmac("sha512", passwords[row["user_id"]].encode(), row["salt"].encode(),
                                       EMQX_PBKDF2_ITERATIONS).hex()
        assert row["password_hash"] == expected
        wrong = hashlib.pbkdf2_hmac("sha512", b"not-the-password", row["salt"].encode(),
                                    EMQX_PBKDF2_ITERATIONS).hex()
        assert row["password_hash"] != wrong
    assert len({r["salt"] for r in rows}) == len(rows), "every device has its own salt"


def test_devices_provisioned_before_the_emqx_hash_are_named_not_silently_written():
    fleet = Fleet(devices=[DeviceRecord(id="old-kiosk", kind="kiosk", groups=["lobby"], mosquitto_hash="$7$x")])
    with pytest.raises(FleetError, match="old-kiosk"):
        users_csv(fleet)


def test_node_config_for_a_three_node_static_cluster():
    cluster = ClusterSettings(nodes=("10.1.0.1", "10.1.0.2", "10.1.0.3"), install_dir="/opt/hall", cookie="c00kie")
    texts = [emqx_conf_text(cluster, node) for node in cluster.nodes]
    for node, text in zip(cluster.nodes, texts):
        assert f'name = "emqx@{node}"' in text
        assert 'seeds = ["emqx@10.1.0.1", "emqx@10.1.0.2", "emqx@10.1.0.3"]' in text
        assert "discovery_strategy = static" in text
        assert 'bootstrap_file = "/opt/hall/users.csv"' in text and "bootstrap_type = hash" in text
        assert f"iterations = {EMQX_PBKDF2_ITERATIONS}" in text and "mac_fun = sha512" in text
        assert 'path = "/opt/hall/acl.conf"' in text and "no_match = deny" in text
        assert text.count("{") == text.count("}") and text.count("[") == text.count("]")
    # identical but for the node's own name
    strip = [re.sub(r'name = "emqx@[^"]+"', "", t) for t in texts]
    assert strip[0] == strip[1] == strip[2]


def test_cli_writes_the_files_from_the_fleet(tmp_path):
    from broker.cli import app

    data = tmp_path / "data"
    fleet = Fleet()
    fleet.provision("kiosk-1", kind="kiosk", groups=["lobby"])
    fleet.save(data / "fleet.yaml")
    out = tmp_path / "emqx"
    result = CliRunner().invoke(app, ["broker", "emqx-config", str(out), "--data-dir", str(data),
                                      "--node", "n1.hall", "--node", "n2.hall", "--node", "n3.hall"])
    assert result.exit_code == 0, result.output
    assert erlang_terms((out / "acl.conf").read_text())[-1] == (("atom", "deny"), ("atom", "all"))
    assert (out / "users.csv").read_text().splitlines()[1].startswith("kiosk-1,")
    assert oct((out / "users.csv").stat().st_mode & 0o777) == "0o600"
    confs = sorted(out.glob("node*/emqx.conf"))
    assert len(confs) == 3 and 'name = "emqx@n2.hall"' in confs[1].read_text()
    cookies = {re.search(r'cookie = "([^"]+)"', c.read_text()).group(1) for c in confs}
    assert len(cookies) == 1 and len(cookies.pop()) >= 24, "one generated cookie shared by the cluster"


def test_write_refuses_duplicate_nodes(tmp_path, fleet_and_passwords):
    fleet, _ = fleet_and_passwords
    with pytest.raises(FleetError):
        write_emqx_config(fleet, tmp_path, ClusterSettings(nodes=("a", "a", "b")))


def test_local_identities_from_before_the_emqx_hash_get_it_on_the_next_start(tmp_path):
    from broker.provision import demo_identities, ensure_identities
    from broker.settings import HallSettings

    settings = HallSettings(_env_file=None, data_dir=tmp_path)
    identities = demo_identities(kiosks=1, halls=0, robots=0)
    envs = ensure_identities(settings, identities)
    fleet = Fleet.load(settings.fleet_file)
    for record in fleet.devices:  # as written by a version without the EMQX hash
        record.emqx_hash = ""
    fleet.save(settings.fleet_file)
    again = ensure_identities(settings, identities)
    assert again == envs, "same passwords: nothing to redistribute"
    rows = {r["user_id"]: r for r in csv.DictReader(io.StringIO(users_csv(Fleet.load(settings.fleet_file))))}
    password = envs["kiosk-1"]["HALL_MQTT_PASSWORD"]
    assert rows["kiosk-1"]["password_hash"] == hashlib.pbkdf2_hmac(
        "sha512", password.encode(), rows["kiosk-1"]["salt"].encode(), EMQX_PBKDF2_ITERATIONS).hex()
