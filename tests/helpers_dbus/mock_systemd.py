#!/usr/bin/python3
"""A mock org.freedesktop.systemd1 for runts' systemd cgroup driver tests (root, cgroup v1).

    mock_systemd.py BUS_ADDRESS LOG_FILE READY_FILE

Manager.StartTransientUnit(name, mode, props, aux) makes the unit's cgroup
(<mount>/<expanded Slice>/<name>) in the hierarchies systemd manages on v1 (not cpuset,
not freezer), writes the PIDs into cgroup.procs, replies with a job path and then emits
JobRemoved(id, job, name, "done"). StopUnit(name, mode) SIGKILLs the unit's processes,
removes its cgroups and emits JobRemoved; an unknown unit is
org.freedesktop.systemd1.NoSuchUnit. Subscribe does nothing. Each call is appended to
LOG_FILE as one JSON line; READY_FILE is written once the bus name is owned.
"""
import json
import os
import signal
import sys
import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.systemd1.Manager"
CGROOT = "/sys/fs/cgroup"
MANAGED = ["cpu", "cpuacct", "memory", "devices", "blkio", "pids", "systemd", "unified"]


def expand_slice(s):
    base = s[: -len(".slice")]
    if base == "-":
        return ""
    path, prefix = "", ""
    for comp in base.split("-"):
        path += "/" + prefix + comp + ".slice"
        prefix += comp + "-"
    return path


def plain(v):
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.Array, dbus.Struct, list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (dbus.String, dbus.ObjectPath, str)):
        return str(v)
    if isinstance(v, int):
        return int(v)
    return repr(v)


class Manager(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, "/org/freedesktop/systemd1")
        self.log = log
        self.units = {}
        self.jobs = 0

    def record(self, entry):
        with open(self.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def dirs(self, unit):
        return [d for d in (f"{CGROOT}/{c}{self.units[unit]}" for c in MANAGED) if os.path.isdir(d)]

    def finish(self, unit):
        self.jobs += 1
        job = f"/org/freedesktop/systemd1/job/{self.jobs}"
        GLib.idle_add(lambda: (self.JobRemoved(self.jobs, job, unit, "done"), False)[1])
        return dbus.ObjectPath(job)

    @dbus.service.method(IFACE, in_signature="", out_signature="")
    def Subscribe(self):
        pass

    @dbus.service.method(IFACE, in_signature="ssa(sv)a(sa(sv))", out_signature="o")
    def StartTransientUnit(self, name, mode, props, aux):
        props = {str(k): plain(v) for k, v in props}
        self.record({"call": "StartTransientUnit", "name": str(name), "mode": str(mode),
                     "props": props, "aux": plain(aux)})
        if name in self.units:
            raise dbus.exceptions.DBusException(
                f"Unit {name} already exists.", name="org.freedesktop.systemd1.UnitExists")
        self.units[str(name)] = expand_slice(props.get("Slice", "system.slice")) + "/" + name
        for c in MANAGED:
            mount = f"{CGROOT}/{c}"
            if not os.path.ismount(mount):
                continue
            d = mount + self.units[name]
            os.makedirs(d, exist_ok=True)
            for pid in props.get("PIDs", []):
                with open(f"{d}/cgroup.procs", "w") as f:
                    f.write(str(pid))
        return self.finish(str(name))

    @dbus.service.method(IFACE, in_signature="ss", out_signature="o")
    def StopUnit(self, name, mode):
        self.record({"call": "StopUnit", "name": str(name), "mode": str(mode)})
        if name not in self.units:
            raise dbus.exceptions.DBusException(
                f"Unit {name} not loaded.", name="org.freedesktop.systemd1.NoSuchUnit")
        dirs = self.dirs(str(name))
        for _ in range(200):
            pids = set()
            for d in dirs:
                with open(f"{d}/cgroup.procs") as f:
                    pids.update(int(p) for p in f.read().split())
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        for d in dirs:
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.01)
        del self.units[name]
        return self.finish(str(name))

    @dbus.service.signal(IFACE, signature="uoss")
    def JobRemoved(self, id, job, unit, result):
        pass


def main():
    address, log, ready = sys.argv[1:4]
    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    manager = Manager(bus, log)
    name = dbus.service.BusName("org.freedesktop.systemd1", bus)
    with open(ready, "w") as f:
        f.write(str(os.getpid()))
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: (loop.quit(), False)[1])
    loop.run()
    del manager, name


if __name__ == "__main__":
    main()
