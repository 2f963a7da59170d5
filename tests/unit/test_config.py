"""The configuration schema: the file, the environment and flags, and one line per problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import trustme
from support import ROOT

from meterd.server.config import Config, ConfigError, load, settings_table


def problems(tmp_path: Path, text: str | None, env: dict[str, str] | None = None) -> list[str]:
    path = None
    if text is not None:
        path = tmp_path / "meterd.yaml"
        path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(path, env=env or {})
    return [line.replace(f"{path}: ", "") for line in caught.value.lines]


def test_defaults_without_file_or_environment() -> None:
    config = load(None, env={})
    assert (config.listen, config.db, config.admin_key, config.log_format) == (
        "127.0.0.1:50051",
        "./meterd.db",
        None,
        "json",
    )
    assert config.metrics_listen is None and config.tls_cert is None


def test_the_example_config_loads_with_its_meters() -> None:
    config = load(ROOT / "examples" / "meterd.yaml", env={})
    assert [m.slug for m in config.meters] == ["api_requests", "tokens_total"]
    assert config.meters[1].value_property == "$.tokens"


def test_a_typo_in_a_key_is_refused_with_the_right_name(tmp_path: Path) -> None:
    assert problems(tmp_path, "auth: {adminkey: s3cret}\n") == [
        "auth.adminkey: unknown key (did you mean admin_key?)"
    ]
    assert problems(tmp_path, "server:\n  listn: 0.0.0.0:1\nstorage:\n  paht: x.db\n") == [
        "server.listn: unknown key (did you mean listen?)",
        "storage.paht: unknown key (did you mean path?)",
    ]
    assert problems(tmp_path, "listen: 0.0.0.0:1\n") == ["listen: unknown key (did you mean server.listen?)"]
    assert problems(tmp_path, "colour: blue\n") == ["colour: unknown key"]


def test_wrong_types_and_bad_values_each_get_one_line_naming_the_path(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        "server:\n  listen: nowhere\n  grace_seconds: -1\nportal:\n  token_ttl_seconds: "
        "soon\nlog:\n  format: xml\nauth: [key]\n",
    )
    assert lines[0] == "auth: must be a mapping, got a list"
    assert lines[1].startswith("server.listen: expected host:port")
    assert lines[2].startswith("server.grace_seconds: input should be greater than or equal to 0")
    assert lines[3].startswith("portal.token_ttl_seconds: input should be a valid integer")
    assert lines[4].startswith("log.format: input should be 'json' or 'text'")
    assert len(lines) == 5


def test_a_bad_meter_is_one_line_per_field(tmp_path: Path) -> None:
    text = (
        "meters:\n  - {slug: a, eventType: x, aggregation: SUMM}\n"
        "  - {slug: b, eventtype: y, aggregation: COUNT}\n"
        "  - {slug: c, eventType: z, aggregation: SUM, groupBy: {subject: $.s}}\n"
        "  - {slug: a, eventType: x, aggregation: COUNT}\n"
    )
    assert problems(tmp_path, text) == [
        "meters[0].aggregation: unknown aggregation 'SUMM'; expected one of SUM, COUNT, AVG, MIN, MAX, "
        "UNIQUE_COUNT, LATEST",
        "meters[1].eventType: field required",
        "meters[1].eventtype: unknown key (did you mean eventType?)",
        "meters[2].valueProperty: required for SUM meters",
        "meters[2].groupBy.subject: 'subject' is reserved",
    ]
    assert problems(
        tmp_path, "meters:\n  - {slug: w, eventType: x, aggregation: COUNT, windowSize: WEEK}\n"
    ) == ["meters[0].windowSize: must be MINUTE, HOUR or DAY"]
    duplicate = "meters:\n  - {slug: a, eventType: x, aggregation: COUNT}\n  - {slug: a, eventType: y, aggregation: COUNT}\n"
    assert problems(tmp_path, duplicate) == ["meters[1].slug: 'a' is already declared by meters[0]"]


def test_broken_yaml_is_one_line_with_its_position(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "server:\n  listen: [1\nfoo: bar\n")
    assert re.fullmatch(r".*meterd\.yaml:3:4: invalid YAML: expected ',' or '\]', but got ':' .*", line)
    assert problems(tmp_path, "- a\n- b\n") == [
        "must be a YAML mapping of sections (server, storage, auth, ...), got a list"
    ]


def test_storage_url_is_the_database_setting_too(tmp_path: Path) -> None:
    path = tmp_path / "meterd.yaml"
    path.write_text("storage:\n  url: postgresql://meterd@db/meterd\n")
    assert load(path, env={}).db == "postgresql://meterd@db/meterd"
    assert problems(tmp_path, "storage:\n  path: a.db\n  url: sqlite:b.db\n") == [
        "storage.url: storage.path is the same setting: keep one"
    ]


def test_environment_overrides_the_file_and_flags_override_both(tmp_path: Path) -> None:
    path = tmp_path / "meterd.yaml"
    path.write_text(
        "server:\n  listen: 127.0.0.1:1\nstorage:\n  path: file.db\nportal:\n  token_ttl_seconds: 60\n"
    )
    config = load(
        path,
        env={
            "METERD_LISTEN": "127.0.0.1:2",
            "METERD_PORTAL_TOKEN_TTL_SECONDS": "90",
            "METERD_API_KEY": "k",
            "METERD_METERS": '[{"slug": "m", "eventType": "e", "aggregation": "COUNT"}]',
        },
        overrides={"listen": ("--listen", "127.0.0.1:3"), "db": ("--db", None)},
    )
    assert (config.listen, config.db, config.portal_token_ttl_seconds, config.admin_key) == (
        "127.0.0.1:3",
        "file.db",
        90,
        "k",
    )
    assert [m.slug for m in config.meters] == ["m"]


def test_environment_problems_name_the_variable_and_flags_the_flag(tmp_path: Path) -> None:
    assert problems(
        tmp_path, None, env={"METERD_PORTAL_TOKEN_TTL_SECONDS": "0", "METERD_LOG_LEVEL": "loud"}
    ) == [
        "METERD_PORTAL_TOKEN_TTL_SECONDS (portal.token_ttl_seconds): input should be greater than 0",
        "METERD_LOG_LEVEL (log.level): input should be 'debug', 'info', 'warning' or 'error'",
    ]
    with pytest.raises(ConfigError) as caught:
        load(None, env={}, overrides={"listen": ("--listen", "x")})
    assert caught.value.lines == ["--listen: expected host:port with a port from 0 to 65535"]


def test_the_old_admin_key_variable_still_works_with_a_notice() -> None:
    config = load(None, env={"METERD_ADMIN_KEY": "old"})
    assert config.admin_key == "old"
    assert config.notices == ["METERD_ADMIN_KEY is deprecated: set METERD_API_KEY instead (read for now)"]
    assert load(None, env={"METERD_ADMIN_KEY": "old", "METERD_API_KEY": "new"}).admin_key == "new"


def test_tls_files_must_exist_and_come_in_pairs(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    trustme.CA().issue_cert("localhost").cert_chain_pems[0].write_to_path(cert)
    assert problems(tmp_path, None, env={"METERD_TLS_CERT": str(cert)}) == [
        "tls.cert and tls.key go together: set both or neither"
    ]
    assert problems(
        tmp_path, None, env={"METERD_TLS_CERT": str(cert), "METERD_TLS_KEY": str(tmp_path / "no")}
    ) == ["METERD_TLS_KEY (tls.key): no such file"]
    assert problems(tmp_path, None, env={"METERD_TLS_CLIENT_CA": str(cert)}) == [
        "tls.client_ca needs tls.cert and tls.key (mutual TLS is TLS first)"
    ]


def test_a_config_built_in_code_is_validated_too() -> None:
    with pytest.raises(ValueError, match="listen"):
        Config(listen="no-port")
    config = Config()
    config.meters = [{"slug": "m", "eventType": "e", "aggregation": "COUNT"}]  # type: ignore[list-item]
    assert config.meters[0].event_type == "e"


def test_the_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    assert settings_table() in readme, "README's settings table is stale: paste config.settings_table()"
