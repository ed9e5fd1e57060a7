#!/usr/bin/env bash
# The doctor against collecting the same evidence by hand: one `rdsdeck doctor`
# process versus the aws CLI calls and the login an on-call engineer would type
# (identity, the proxy, its targets, the instance, the hosts, the security groups,
# the app host's route table and the VPC's endpoints, the app's parameters,
# Session Manager's view of the host, the instance profile's role and the policy
# simulator for you and for it, the admin's look at mysql.user and mysql.db, a
# token and a `mariadb` login with it, the exported auth log), one after another.
# Both sides against the sandbox (the stand-in answers what moto lacks).
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
prx=$("$venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["rds_proxy_prx_id"])' "$RDSDECK_SANDBOX_FACTS")
by_hand() {
  aws sts get-caller-identity
  aws rds describe-db-proxies
  aws rds describe-db-proxy-targets --db-proxy-name dev-node-app
  aws rds describe-db-instances
  aws ec2 describe-instances
  aws ec2 describe-security-groups
  aws ec2 describe-route-tables
  aws ec2 describe-vpc-endpoints
  aws ssm get-parameters-by-path --path /dev/database/
  local standin=("$venv/bin/aws" --endpoint-url "$RDSDECK_SANDBOX_SSM_ENDPOINT" --output json)
  "${standin[@]}" ssm describe-instance-information > /dev/null
  "${standin[@]}" iam get-instance-profile --instance-profile-name rds-iam-auth-instance-profile > /dev/null
  local res="arn:aws:rds-db:us-east-1:123456789012:dbuser:$prx/node_user"
  "${standin[@]}" iam simulate-principal-policy --policy-source-arn arn:aws:iam::123456789012:user/moto --action-names rds-db:connect --resource-arns "$res" > /dev/null
  "${standin[@]}" iam simulate-principal-policy --policy-source-arn arn:aws:iam::123456789012:role/rds-iam-auth-ec2-role --action-names rds-db:connect --resource-arns "$res" > /dev/null
  local token
  token=$("$venv/bin/aws" rds generate-db-auth-token --hostname "$RDSDECK_SANDBOX_PROXY_ENDPOINT" --port 3306 --username dbadmin)
  MYSQL_PWD="$token" mariadb --protocol=TCP -h localhost -P "$RDSDECK_SANDBOX_DB_PORT" --ssl-ca "$RDSDECK_SANDBOX_DB_CA" \
    --ssl-verify-server-cert --enable-cleartext-plugin -u dbadmin \
    -e "SELECT plugin, ssl_type FROM mysql.user WHERE user='node_user'; SELECT * FROM mysql.db WHERE user='node_user'" > /dev/null
  token=$("$venv/bin/aws" rds generate-db-auth-token --hostname "$RDSDECK_SANDBOX_PROXY_ENDPOINT" --port 3306 --username node_user)
  MYSQL_PWD="$token" mariadb --protocol=TCP -h localhost -P "$RDSDECK_SANDBOX_DB_PORT" --ssl-ca "$RDSDECK_SANDBOX_DB_CA" \
    --ssl-verify-server-cert --enable-cleartext-plugin -u node_user -e "SELECT 1" > /dev/null
  aws logs filter-log-events --log-group-name /aws/rds/instance/rds-iam-auth-db/iam-db-auth-error --start-time $(( ($(date +%s) - 900) * 1000 ))
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
printf '%-40s %8d %8d\n' "rdsdeck doctor (15 checks, 2 logins)" "$dm" "$dp"
printf '%-40s %8d %8d\n' "aws CLI x15 + 2 mariadb logins, by hand" "$hm" "$hp"
awk -v a="$hm" -v b="$dm" 'BEGIN { printf "ratio by hand / doctor: %.1fx at the median\n", a / b }'
