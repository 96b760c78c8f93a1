#!/usr/bin/env bash
# End-to-end test of the fleet playbooks against this machine: provision
# twice (the second run must change nothing), then the real nightly.yml with
# the smoke profile (kernel, scx and reboots skipped), collecting into a
# temporary results dir and writing the report, with an unreachable host
# beside localhost that must be named missing. Prints each PLAY RECAP.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$here/.." && pwd)
cd "$here"
export ANSIBLE_CONFIG="$here/ansible.cfg"
export ANSIBLE_NOCOLOR=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inv=inventory/localhost.yml

recap() { sed -n '/PLAY RECAP/,$p' "$1"; }

echo "== provision (first run)"
ansible-playbook -i "$inv" playbooks/provision.yml >"$tmp/provision1.log" 2>&1 || { cat "$tmp/provision1.log"; exit 1; }
recap "$tmp/provision1.log"
echo "== provision (second run: must report changed=0)"
ansible-playbook -i "$inv" playbooks/provision.yml >"$tmp/provision2.log" 2>&1 || { cat "$tmp/provision2.log"; exit 1; }
recap "$tmp/provision2.log"
grep -Eq 'localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' "$tmp/provision2.log" \
  || { echo "FAIL: the second provisioning run changed something"; exit 1; }

echo "== tune is reversible: THP to 'never', then teardown restores it"
before=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled)
ansible-playbook -i "$inv" playbooks/provision.yml -e tune_thp=never >"$tmp/tune.log" 2>&1 || { cat "$tmp/tune.log"; exit 1; }
during=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled)
ansible-playbook -i "$inv" playbooks/teardown.yml >"$tmp/teardown.log" 2>&1 || { cat "$tmp/teardown.log"; exit 1; }
after=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled)
echo "THP: before=$before during=$during after=$after"
[ "$during" = never ] && [ "$after" = "$before" ] || { echo "FAIL: THP was not applied and restored"; exit 1; }

echo "== nightly against localhost, with an unreachable Graviton host beside it"
# The ghost must drop out without stopping localhost, be named as missing in
# the report, and make the nightly fail with exactly that reason.
cat >"$tmp/ghost.yml" <<'YAML'
all:
  children:
    gaslab_fleet:
      children:
        graviton:
          hosts:
            ghost-graviton:
              ansible_host: 127.0.0.1
              ansible_port: 1
              ansible_connection: ssh
              ansible_user: nobody
YAML
commit=$(git -C "$repo" rev-parse HEAD)
set +e
ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks \
ansible-playbook -i "$inv" -i "$tmp/ghost.yml" playbooks/nightly.yml \
  -e gaslab_repo="$repo" -e gaslab_commit="$commit" \
  -e gaslab_home="$tmp/home" -e gaslab_cargo_target_dir="$repo/target" \
  -e gaslab_profile=profiles/smoke.toml -e gaslab_skip_kernel=true \
  -e gaslab_controller_results="$tmp/results" -e gaslab_controller_report="$tmp/report" \
  -e gaslab_controller_bin="$repo/target/release/gaslab" \
  >"$tmp/nightly.log" 2>&1
rc=$?
set -e
recap "$tmp/nightly.log"
fail() { cat "$tmp/nightly.log"; echo "FAIL: $1 (rc=$rc)"; exit 1; }
grep -Eq 'ghost-graviton +: ok=0 +changed=0 +unreachable=1 +failed=0' "$tmp/nightly.log" \
  || fail "the ghost host was not reported unreachable"
# localhost's one failure is the controller's deliberate one, for the ghost.
grep -Eq 'localhost +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=1 ' "$tmp/nightly.log" \
  || fail "localhost did not finish its own measurement cleanly"
# Exactly one failure on localhost, and it names exactly the ghost (the
# callback prints the result as JSON or YAML depending on ansible's version).
[ "$(grep -c '^fatal: \[localhost\]' "$tmp/nightly.log")" -eq 1 ] || fail "a task other than the missing-host check failed"
grep -A3 '^fatal: \[localhost\]' "$tmp/nightly.log" | grep -Eq "msg\"?: ['\"]?missing hosts: ghost-graviton['\"]?(\}|$)" \
  || fail "the nightly did not fail naming exactly the ghost as missing"
[ "$rc" -ne 0 ] || fail "the nightly exited 0 with a host missing"
sets=$(find "$tmp/results" -name '*.json' | wc -l)
[ "$sets" -ge 1 ] || fail "no result set collected from localhost"
"$repo/target/release/gaslab" validate $(find "$tmp/results" -name '*.json')
[ -s "$tmp/report/index.html" ] || fail "no report written"
grep -q 'Missing hosts</strong>: no result set tonight from ghost-graviton' "$tmp/report/index.html" \
  || fail "the report does not name the missing host"
echo "nightly: $sets result set(s) collected from localhost, ghost-graviton named missing, report written, exit $rc"
echo "ansible localhost: 1 passed, 0 failed"
