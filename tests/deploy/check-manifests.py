#!/usr/bin/python3
"""check-manifests.py SRCDIR: proves what can be proved about the container recipe
and the Kubernetes manifests without a container engine or a cluster:
  - every YAML file of deploy/k8s is well formed, each document has apiVersion,
    kind and metadata.name, and kustomization.yaml lists files that exist;
  - every ConfigMap, PVC and Service selector a workload uses is defined in the
    manifests (Secrets the operator creates are named in a comment instead);
  - the node DaemonSet uses the host network, signald runs one replica, Recreate;
  - every file the Containerfile COPYs from the source tree exists, every stage it
    copies from is defined, both targets (signald, mcu) exist and start from
    Debian 12, and the entry point script is executable shell that parses.
It does NOT build an image or apply the manifests.
"""
import pathlib
import re
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml not installed (apt-get install python3-yaml)")
    sys.exit(77)

OPERATOR_SECRETS = {"lienthong-node-tokens"}


def main():
    src = pathlib.Path(sys.argv[1])
    k8s = src / "deploy" / "k8s"
    fail = []
    docs = []
    for f in sorted(k8s.glob("*.yaml")):
        try:
            for d in yaml.safe_load_all(f.read_text(encoding="utf-8")):
                if d is None:
                    continue
                for k in ("apiVersion", "kind"):
                    if k not in d:
                        fail.append(f"{f.name}: a document without {k}")
                if d.get("kind") != "Kustomization" and not d.get("metadata", {}).get("name"):
                    fail.append(f"{f.name}: {d.get('kind')} without metadata.name")
                docs.append((f.name, d))
        except yaml.YAMLError as e:
            fail.append(f"{f.name}: not well-formed YAML: {e}")
    print(f"ok: {len(docs)} YAML documents parsed in deploy/k8s")

    by_kind = {}
    for name, d in docs:
        by_kind.setdefault(d["kind"], {})[d.get("metadata", {}).get("name")] = d
    for name, d in docs:
        if d["kind"] == "Kustomization":
            for r in d.get("resources", []):
                if not (k8s / r).exists():
                    fail.append(f"{name}: resource {r} does not exist")
    for kind in ("Deployment", "DaemonSet"):
        for wname, w in by_kind.get(kind, {}).items():
            spec = w["spec"]["template"]["spec"]
            labels = w["spec"]["template"]["metadata"]["labels"]
            if w["spec"]["selector"]["matchLabels"].items() - labels.items():
                fail.append(f"{kind} {wname}: selector does not match its pod labels")
            for v in spec.get("volumes", []):
                if "configMap" in v and v["configMap"]["name"] not in by_kind.get("ConfigMap", {}):
                    fail.append(f"{kind} {wname}: ConfigMap {v['configMap']['name']} is not defined")
                if "persistentVolumeClaim" in v and v["persistentVolumeClaim"]["claimName"] \
                        not in by_kind.get("PersistentVolumeClaim", {}):
                    fail.append(f"{kind} {wname}: PVC {v['persistentVolumeClaim']['claimName']} is not defined")
                if "secret" in v and v["secret"]["secretName"] not in OPERATOR_SECRETS:
                    fail.append(f"{kind} {wname}: Secret {v['secret']['secretName']} is not documented")
            for c in spec["containers"]:
                mounts = {m["name"] for m in c.get("volumeMounts", [])}
                missing = mounts - {v["name"] for v in spec.get("volumes", [])}
                if missing:
                    fail.append(f"{kind} {wname}: mounts undefined volumes {missing}")
    for sname, s in by_kind.get("Service", {}).items():
        sel = s["spec"]["selector"].items()
        if not any(sel <= w["spec"]["template"]["metadata"]["labels"].items()
                   for k in ("Deployment", "DaemonSet") for w in by_kind.get(k, {}).values()):
            fail.append(f"Service {sname}: its selector matches no workload")
    ds = by_kind.get("DaemonSet", {}).get("mcu")
    if not ds or ds["spec"]["template"]["spec"].get("hostNetwork") is not True:
        fail.append("the mcu DaemonSet must use hostNetwork (UDP media)")
    dep = by_kind.get("Deployment", {}).get("signald")
    if not dep or dep["spec"].get("replicas") != 1 or dep["spec"]["strategy"]["type"] != "Recreate":
        fail.append("signald must run one replica with the Recreate strategy (SQLite store)")
    print("ok: workloads, volumes, services and selectors checked")

    cf = src / "deploy" / "container" / "Containerfile"
    text = cf.read_text(encoding="utf-8")
    stages = set(re.findall(r'^FROM\s+\S+\s+AS\s+(\S+)', text, re.M | re.I))
    for base in re.findall(r'^FROM\s+(\S+)', text, re.M):
        if base not in stages and not re.match(r'(docker\.io/library/)?debian:12', base):
            fail.append(f"Containerfile: stage from {base}, not Debian 12")
    for want in ("signald", "mcu"):
        if want not in stages:
            fail.append(f"Containerfile: no target {want}")
    for m in re.finditer(r'^COPY\s+(.*)$', text, re.M):
        parts = m.group(1).split()
        frm = [p for p in parts if p.startswith("--from=")]
        paths = [p for p in parts if not p.startswith("--")]
        if frm:
            if frm[0][7:] not in stages:
                fail.append(f"Containerfile: COPY from unknown stage {frm[0]}")
            continue
        for p in paths[:-1]:
            if p != "." and not (src / p).exists():
                fail.append(f"Containerfile: COPY source {p} does not exist")
    entry = src / "deploy" / "container" / "mcu-entrypoint.sh"
    if not entry.stat().st_mode & 0o111:
        fail.append("mcu-entrypoint.sh is not executable")
    if subprocess.run(["sh", "-n", str(entry)]).returncode != 0:
        fail.append("mcu-entrypoint.sh does not parse")
    print(f"ok: Containerfile stages {sorted(stages)}, COPY sources exist")

    for f in fail:
        print("FAIL: " + f)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
