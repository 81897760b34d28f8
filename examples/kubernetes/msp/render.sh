#!/bin/sh
# Renders tenant.template.yaml once per line of a tenants list into one multi-document YAML
# stream on stdout, for `kubectl apply -f -`. POSIX sh and sed only: no Helm, no envsubst.
#
#   sh render.sh [tenants.list] | kubectl apply -f -
#
# Each line: name | tenant id | client id | schedule | HR SCIM URL   (# starts a comment).
# Every value is checked against a strict pattern before it is substituted, so no value can
# break out of its YAML scalar or the sed expression; any bad or repeated line stops the whole
# render (exit 1) and prints nothing, so a typo never applies half a fleet.
set -eu

here=$(dirname "$0")
list=${1:-"$here/tenants.list"}
template="$here/tenant.template.yaml"

fail() {
  printf 'render.sh: %s\n' "$1" >&2
  exit 1
}

trim() {
  printf '%s' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'
}

# matches VALUE EXTENDED-REGEX: the whole value matches.
matches() {
  printf '%s\n' "$1" | grep -Eqx -- "$2"
}

[ -r "$list" ] || fail "cannot read the tenants list $list"
[ -r "$template" ] || fail "cannot read the template $template"

guid='[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
out=''
seen=' '
line_no=0
while IFS= read -r line || [ -n "$line" ]; do
  line_no=$((line_no + 1))
  case $(trim "$line") in '' | '#'*) continue ;; esac
  at="$list:$line_no"
  IFS='|' read -r name tenant_id client_id schedule hr_url extra <<LINE
$line
LINE
  [ -z "${extra:-}" ] || fail "$at: more than 5 fields"
  name=$(trim "${name:-}")
  tenant_id=$(trim "${tenant_id:-}")
  client_id=$(trim "${client_id:-}")
  schedule=$(trim "${schedule:-}")
  hr_url=$(trim "${hr_url:-}")

  matches "$name" '[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?' ||
    fail "$at: name \"$name\" is not a DNS label of at most 32 characters"
  case $seen in *" $name "*) fail "$at: tenant \"$name\" is listed twice" ;; esac
  seen="$seen$name "
  matches "$tenant_id" "$guid|[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+" ||
    fail "$at: tenant id \"$tenant_id\" is neither a GUID nor a domain"
  matches "$client_id" "$guid" || fail "$at: client id \"$client_id\" is not a GUID"
  matches "$schedule" '[0-9*/,-]+( [0-9*/,-]+){4}' ||
    fail "$at: schedule \"$schedule\" is not a five-field cron expression"
  matches "$hr_url" 'https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/%-]*)?' ||
    fail "$at: HR URL \"$hr_url\" is not a plain https:// URL"

  # The patterns above admit no '|', '&' or '\', so the values are literal in these replacements.
  doc=$(sed -e "s|{{TENANT}}|$name|g" -e "s|{{TENANT_ID}}|$tenant_id|g" \
    -e "s|{{CLIENT_ID}}|$client_id|g" -e "s|{{SCHEDULE}}|$schedule|g" \
    -e "s|{{HR_URL}}|$hr_url|g" "$template")
  case $doc in *'{{'*) fail "$at: the template has a placeholder render.sh does not know" ;; esac
  out="$out---
# tenant $name ($at)
$doc
"
done <"$list"

[ "$seen" != ' ' ] || fail "$list lists no tenant"
printf '%s' "$out"
