#!/usr/bin/env bash
# The doctor against collecting the same evidence by hand: one `rdsdeck doctor`
# process versus the aws CLI calls and the login an on-call engineer would type
# (identity, the proxy, its targets, the instance, the hosts, the security groups,
# the app's parameters, Session Manager's view of the host, a token and a
# `mariadb` login with it), one after another. Both sides against the sandbox.
# Reports the median and p90 of N rounds and the ratio.
#   bench/doctor_vs_awscli.sh [N=10] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
. bench/sandbox.sh
bench_setup doctor_vs_awscli "${2:-}"
set -a; . "$tmp/env"; set +a
export HOME=$tmp XDG_CONFIG_HOME=$tmp/c XDG_STATE_HOME=$tmp/s
aws() { "$venv/bin/aws" --endpoint-url "$AWS_ENDPOINT_URL" --output json "$@" > /dev/null; }
by_hand() {
  aws sts get-caller-identity
  aws rds describe-db-proxies
  aws rds describe-db-proxy-targets --db-proxy-name dev-node-app
  aws rds describe-db-instances
  aws ec2 describe-instances
  aws ec2 describe-security-groups
  aws ssm get-parameters-by-path --path /dev/database/
  "$venv/bin/aws" --endpoint-url "$RDSDECK_SANDBOX_SSM_ENDPOINT" ssm describe-instance-information > /dev/null
  local token
  token=$("$venv/bin/aws" rds generate-db-auth-token --hostname "$RDSDECK_SANDBOX_PROXY_ENDPOINT" --port 3306 --username node_user)
  MYSQL_PWD="$token" mariadb --protocol=TCP -h localhost -P "$RDSDECK_SANDBOX_DB_PORT" --ssl-ca "$RDSDECK_SANDBOX_DB_CA" \
    --ssl-verify-server-cert --enable-cleartext-plugin -u node_user -e "SELECT 1" > /dev/null
}
doctor() { "$bin" doctor --ca "$RDSDECK_SANDBOX_DB_CA" > /dev/null; }
# Sanity: both sides work.
doctor || { echo "rdsdeck doctor failed on the sandbox" >&2; exit 1; }
by_hand || { echo "the by-hand sequence failed" >&2; exit 1; }
ms() { local t0 t1; t0=$(date +%s%N); "$@"; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
d=(); h=()
for _ in $(seq 1 "$n"); do d+=("$(ms doctor)"); h+=("$(ms by_hand)"); done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; p=a[int(NR*0.9+0.999)]; printf "%d %d\n", m, p}'; }
read -r dm dp <<< "$(stats "${d[@]}")"
read -r hm hp <<< "$(stats "${h[@]}")"
printf '%-40s %8s %8s\n' "($n rounds, ms)" median p90
printf '%-40s %8d %8d\n' "rdsdeck doctor (11 checks, a login)" "$dm" "$dp"
printf '%-40s %8d %8d\n' "aws CLI x9 + mariadb login, by hand" "$hm" "$hp"
awk -v a="$hm" -v b="$dm" 'BEGIN { printf "ratio by hand / doctor: %.1fx at the median\n", a / b }'
