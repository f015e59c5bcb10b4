"""Device URLs, the scheme registry and the sim:// devices."""

import pytest

from drivers import BadDeviceURL, DeviceState, check_url, open_device, parse_url, probe
from drivers.registry import SCHEMES


def test_parse_host_port_path_and_options():
    u = parse_url("escpos+tcp://10.0.0.5:9100?profile=TM-T88V")
    assert (u.scheme, u.host, u.port, u.query) == ("escpos+tcp", "10.0.0.5", 9100, {"profile": "TM-T88V"})
    u = parse_url("zvt+serial:///dev/ttyUSB1?baud=9600")
    assert (u.netloc, u.path, u.query["baud"]) == ("", "/dev/ttyUSB1", "9600")
    u = parse_url("zpl+tcp://[::1]:9100")
    assert (u.host, u.port) == ("::1", 9100)


@pytest.mark.parametrize("bad", ["", "printer", "://x", "se rial://x", "sim://printer?state=a&state=b"])
def test_malformed_urls_are_refused(bad):
    with pytest.raises(BadDeviceURL):
        parse_url(bad)


def test_unknown_scheme_names_the_known_ones():
    with pytest.raises(BadDeviceURL) as exc:
        check_url("laser://x")
    assert "laser" in str(exc.value) and "sim" in str(exc.value)


def test_unknown_option_repeats_the_grammar():
    with pytest.raises(BadDeviceURL) as exc:
        check_url("sim://printer?colour=red")
    assert "colour" in str(exc.value) and "sim://KIND" in str(exc.value)


def test_option_types_are_checked():
    u = parse_url("sim://printer?state=x")
    assert u.options_for({"n": (int, 1)} | {"state": (str, "")}) == {"n": 1, "state": "x"}
    with pytest.raises(BadDeviceURL):
        parse_url("sim://printer?n=abc").options_for({"n": (int, 1)})


def test_role_must_be_served_and_known():
    assert check_url("sim://printer", "receipt_printer").netloc == "printer"
    with pytest.raises(BadDeviceURL):
        check_url("sim://printer", "coffee_machine")


@pytest.mark.parametrize("kind", ["card", "idcard", "printer", "label", "terminal", "scanner", "camera",
                                  "receipt_printer", "payment_terminal"])
def test_every_role_has_a_sim_device(kind):
    with open_device(f"sim://{kind}") as dev:
        assert dev.status().state is DeviceState.CONNECTED
        assert dev.write(b"\x1b@") == 2 and dev.received == [b"\x1b@"]
        assert dev.counters["bytes_out"] == 2


def test_sim_fault_states_and_probe_never_raises():
    assert probe("sim://printer?state=error").state is DeviceState.ERROR
    st = probe("nosuch://thing", "receipt_printer")
    assert st.state is DeviceState.ERROR and "unknown device scheme" in st.reason
    assert probe("sim://toaster").state is DeviceState.ERROR


def test_registry_is_an_explicit_table_of_importable_modules():
    import importlib

    for scheme, modname in SCHEMES.items():
        mod = importlib.import_module(modname)
        for attr in ("GRAMMAR", "OPTIONS", "ROLES", "open", "probe"):
            assert hasattr(mod, attr), f"{modname} (scheme {scheme}) lacks {attr}"


def test_an_open_device_is_reported_busy_and_not_opened_twice():
    from drivers.registry import in_use

    dev = open_device("sim://printer")
    assert in_use("sim://printer")
    st = probe("sim://printer")
    assert st.state is DeviceState.BUSY and st.reason == "in use"
    dev.close()
    dev.close()  # closing twice releases once
    assert not in_use("sim://printer")
    assert probe("sim://printer").state is DeviceState.CONNECTED


def test_a_device_dropped_without_close_is_no_longer_in_use():
    import gc

    from drivers.registry import in_use

    dev = open_device("sim://terminal")
    assert in_use("sim://terminal")
    del dev
    gc.collect()
    assert not in_use("sim://terminal")
