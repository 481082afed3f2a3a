#!/usr/bin/env bash
# deliver.sh: the report reaches a real HTTP(S) server on loopback (tests/integration/
# http_recorder.py records what it gets), per flavor, through faults; what is not delivered
# is kept in the instance's spool and delivered by the next run; the console lines give back
# the report file byte for byte through hooks/sshrescue-console-collect.
source "$(dirname "$0")/../lib.sh"

# Debian's python3 (a python3 earlier in PATH may be a slow wrapper, e.g. pyenv's shim)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
REC="$TOP/tests/integration/http_recorder.py"
COLLECT="$TOP/hooks/sshrescue-console-collect"
SPOOL=var/lib/sshrescue/spool
# seconds a run may take past its deadline: starting, writing the report (more under valgrind,
# where each TLS handshake alone takes seconds)
SLACK=$([ "${VALGRIND:-}" = 1 ] && echo 15 || echo 2)
REPORT=var/log/sshrescue/report.json
# delivery must not wander off through a proxy of the machine running the tests
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
unset AWS_EC2_METADATA_SERVICE_ENDPOINT GCE_METADATA_HOST SSHRESCUE_RESCUE_BOOT

# launch_rec NAME [recorder options]: a recorder in $T/NAME, started in the background (they
# are all launched at once: Python takes a while to start)
launch_rec() {
	local name=$1
	shift
	$PY "$REC" --dir "$T/$name" "$@" 2>"$T/$name.log" &
	t_defer "kill $!"
	launched+=" $name "
}
launched=""
# start_rec NAME [recorder options]: that recorder, ready; its port in $PORT
start_rec() {
	local name=$1 i
	[[ "$launched" == *" $name "* ]] || launch_rec "$@"
	for ((i = 0; i < 300; i++)); do
		[ -s "$T/$name/port" ] && break
		sleep 0.05
	done
	PORT=$(cat "$T/$name/port" 2>/dev/null) || { t_fail "recorder $name did not start"; return 1; }
}

# policy FILE ATTEMPTS TIMEOUT DEADLINE [more [report] lines]: every policy off, so only
# delivery is judged
policy() {
	local f=$1 a=$2 t=$3 d=$4
	shift 4
	{
		for s in hosts_access denyhosts fail2ban firewall sshd; do
			printf '[%s]\nenabled = no\n' "$s"
		done
		printf '[report]\nattempts = %s\ntimeout = %s\ndeadline = %s\n' "$a" "$t" "$d"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$f"
}

# run_sr COMMAND ROOT POLICY URL [env...]: sets RC and MS (wall time of the run); URL ""
# leaves the policy's url
run_sr() {
	local cmd=$1 root=$2 pol=$3 url=$4 start
	shift 4
	local args=("$cmd" --root "$root" --policy "$pol")
	[ -n "$url" ] && args+=(--report-url "$url")
	start=$(date +%s%N)
	env "$@" "$SSHRESCUE" "${args[@]}" >"$T/out" 2>"$T/err"
	RC=$?
	MS=$((($(date +%s%N) - start) / 1000000))
}

jget() { # FILE PYTHON-EXPRESSION-OVER-d
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
rec_count() { find "$T/$1" -name '[0-9]*.json' | wc -l; }
rec_header() { # NAME N HEADER
	$PY -c 'import json,sys
r=json.load(open(sys.argv[1]))
print("\n".join(v for k,v in r["headers"] if k.lower()==sys.argv[2].lower()))' \
		"$T/$1/$(printf %04d "$2").json" "$3"
}
rec_field() { jget "$T/$1/$(printf %04d "$2").json" "d['$3']"; }

# The report's schema (SPEC.md "Report"): every field there, with its type.
check_schema() { # FILE
	$PY - "$1" <<'EOF' || { t_fail "$1 is not a sshrescue-report/1 report"; return 1; }
import json, sys
d = json.load(open(sys.argv[1], "rb"))
S, I, O, L, N = str, int, dict, list, type(None)
def need(o, k, t, where):
    assert k in o, "%s: no %s" % (where, k)
    assert isinstance(o[k], t), "%s.%s: %r" % (where, k, o[k])
assert d.get("schema") == "sshrescue-report/1", d.get("schema")
for k, t in [("run_id", S), ("agent", O), ("command", S), ("started_at", S), ("duration_ms", I),
             ("instance", O), ("target", (O, N)), ("policies", L), ("delivery", O),
             ("exit_status", I), ("errors", L)]:
    need(d, k, t, "report")
for k in ("name", "version"):
    need(d["agent"], k, S, "agent")
for k in ("hostname", "machine_id", "os", "cloud_instance_id"):
    need(d["instance"], k, (S, N), "instance")
if d["target"] is not None:
    for k in ("kind", "device", "uuid", "fstype"):
        need(d["target"], k, (S, N), "target")
    need(d["target"], "mounts", L, "target")
for p in d["policies"]:
    need(p, "name", S, "policy")
    assert p.get("status") in ("ok", "repaired", "unrepaired", "failed", "skipped"), p
    need(p, "findings", L, "policy")
    for f in p["findings"]:
        for k in ("file", "line", "text", "problem", "action", "backup"):
            assert k in f, "finding: no %s" % k
need(d["delivery"], "url", (S, N), "delivery")
need(d["delivery"], "attempts", I, "delivery")
need(d["delivery"], "status", S, "delivery")
assert all(isinstance(e, str) for e in d["errors"])
import re
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", d["started_at"])
EOF
}

# A fault run: the run ends within deadline + 2 s, exit bit 2 is set, the attempts are as
# expected, and the report is in the spool with status "spooled".
expect_spooled() { # ROOT DEADLINE ATTEMPTS
	local root=$1 deadline=$2 attempts=$3 id
	((MS <= (deadline + SLACK) * 1000)) || t_fail "the run took $MS ms, deadline $deadline s"
	((RC & 2)) || t_fail "exit $RC: bit 2 (not delivered) is not set"
	id=$(jget "$root/$REPORT" "d['run_id']") || { t_fail "no report file"; return 1; }
	[ "$(jget "$root/$REPORT" "d['delivery']['attempts']")" = "$attempts" ] ||
		t_fail "attempts $(jget "$root/$REPORT" "d['delivery']['attempts']"), want $attempts"
	[ "$(jget "$root/$REPORT" "d['delivery']['status']")" = spooled ] ||
		t_fail "status $(jget "$root/$REPORT" "d['delivery']['status']"), want spooled"
	[ -f "$root/$SPOOL/$id.json" ] || { t_fail "$SPOOL/$id.json not there"; return 1; }
	check_schema "$root/$SPOOL/$id.json"
	SPOOLED_ID=$id
}

# The next run, against a healthy endpoint, delivers the spooled report first, then its own.
expect_next_run_delivers() { # ROOT POLICY NAME
	local root=$1 pol=$2 name=$3 id
	start_rec "$name" || return 1
	run_sr repair "$root" "$pol" "http://127.0.0.1:$PORT/report"
	((RC & 2)) && t_fail "next run: exit $RC, bit 2 still set"
	[ "$(rec_count "$name")" = 2 ] ||
		{ t_fail "next run: $(rec_count "$name") requests, want 2"; return 1; }
	[ "$(rec_header "$name" 1 X-Sshrescue-Run-Id)" = "$SPOOLED_ID" ] ||
		t_fail "next run: first request is not the spooled report $SPOOLED_ID"
	[ "$(rec_header "$name" 1 X-Sshrescue-Spooled)" = yes ] || t_fail "no X-Sshrescue-Spooled: yes"
	id=$(jget "$root/$REPORT" "d['run_id']")
	[ "$(rec_header "$name" 2 X-Sshrescue-Run-Id)" = "$id" ] ||
		t_fail "next run: second request is not the run's own report"
	[ "$(jget "$T/$name/0001.body" "d['run_id']")" = "$SPOOLED_ID" ] || t_fail "spooled body"
	[ -z "$(ls -A "$root/$SPOOL")" ] || t_fail "spool not empty: $(ls "$root/$SPOOL")"
	[ "$(jget "$root/$REPORT" "d['delivery']['status']")" = delivered ] ||
		t_fail "next run: status $(jget "$root/$REPORT" "d['delivery']['status']")"
}

# TLS: CA A signs the good server; CA B signs the other one.
mkdir -p "$T/pki"
mkcert() { # NAME CA
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/pki/$1.key" -out "$T/pki/$1.csr" -subj "/CN=127.0.0.1" 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$T/pki/$1.ext" &&
		openssl x509 -req -in "$T/pki/$1.csr" -CA "$T/pki/$2.pem" -CAkey "$T/pki/$2.key" \
			-CAcreateserial -days 2 -extfile "$T/pki/$1.ext" -out "$T/pki/$1.pem" 2>/dev/null
}
for ca in ca-a ca-b; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$T/pki/$ca.key" -out "$T/pki/$ca.pem" -subj "/CN=sshrescue test $ca" 2>/dev/null
done
mkcert good ca-a
mkcert evil ca-b
if ! [ -s "$T/pki/good.pem" ] || ! [ -s "$T/pki/evil.pem" ]; then
	t_case "openssl makes the test PKI"
	t_fail "no certificates in $T/pki"
	exit 1
fi

for r in post aws2 f0next f1next f2next f4next f5next t3next proxy direct; do launch_rec $r; done
launch_rec gce --mode gce
launch_rec gce404 --mode gce
launch_rec aws --mode aws
launch_rec blob --mode blob
launch_rec hang --mode hang
launch_rec hang2 --mode hang
launch_rec fail1 --mode fail --fail 1
launch_rec fail9 --mode fail --fail 99
launch_rec drip --mode drip --drip 0.5
launch_rec tlsgood --tls "$T/pki/good.pem" "$T/pki/good.key"
launch_rec tlsevil --tls "$T/pki/evil.pem" "$T/pki/evil.key"

# ---------------------------------------------------------------------------------------
t_case "flavor post: the body is the report, with the extra headers"
t_mkroot "$T/r1"
policy "$T/p1" 3 2 10 'header = X-Fleet: blue' 'header = Authorization: Bearer s3cret'
start_rec post
run_sr repair "$T/r1" "$T/p1" "http://user:pw@127.0.0.1:$PORT/report?key=abc"
((RC & 2)) && t_fail "exit $RC: bit 2 set"
[ "$(rec_count post)" = 1 ] || t_fail "$(rec_count post) requests, want 1"
[ "$(rec_field post 1 method)" = POST ] || t_fail "method $(rec_field post 1 method)"
[ "$(rec_field post 1 path)" = "/report?key=abc" ] || t_fail "path $(rec_field post 1 path)"
[ "$(rec_header post 1 Content-Type)" = application/json ] || t_fail "Content-Type"
[ "$(rec_header post 1 X-Fleet)" = blue ] || t_fail "header X-Fleet missing"
[ "$(rec_header post 1 Authorization)" = "Bearer s3cret" ] || t_fail "header Authorization"
[ -z "$(rec_header post 1 Expect)" ] || t_fail "Expect: 100-continue sent"
rec_header post 1 User-Agent | grep -q '^sshrescue/' || t_fail "User-Agent"
check_schema "$T/post/0001.body"
[ "$(jget "$T/post/0001.body" "d['run_id']")" = "$(jget "$T/r1/$REPORT" "d['run_id']")" ] ||
	t_fail "the body is not this run's report"
[ "$(jget "$T/r1/$REPORT" "d['delivery']['status']")" = delivered ] || t_fail "status"
[ "$(jget "$T/r1/$REPORT" "d['delivery']['attempts']")" = 1 ] || t_fail "attempts"
# the shown url carries neither the password nor the query
url=$(jget "$T/r1/$REPORT" "d['delivery']['url']")
[[ "$url" == "http://127.0.0.1:$PORT/report" ]] || t_fail "delivery.url is '$url'"
t_no_grep 'pw@\|key=abc' "$T/err"
check_schema "$T/r1/$REPORT"
id=$(jget "$T/r1/$REPORT" "d['run_id']")
t_same "$T/r1/$REPORT" "$T/r1/var/log/sshrescue/history/$id.json"
[ ! -e "$T/r1/$SPOOL" ] || [ -z "$(ls -A "$T/r1/$SPOOL")" ] || t_fail "spool not empty"
t_grep "^sshrescue: delivery: delivered to http://127.0.0.1:$PORT/report" "$T/err"

t_case "flavor gce-guest-attributes: PUT of report and summary with Metadata-Flavor: Google"
t_mkroot "$T/r2"
policy "$T/p2" 3 2 10 'flavor = gce-guest-attributes'
start_rec gce --mode gce
run_sr repair "$T/r2" "$T/p2" "http://127.0.0.1:$PORT"
((RC & 2)) && t_fail "exit $RC: bit 2 set"
[ "$(rec_count gce)" = 2 ] || t_fail "$(rec_count gce) requests, want 2"
A=/computeMetadata/v1/instance/guest-attributes/sshrescue
[ "$(rec_field gce 1 method) $(rec_field gce 1 path)" = "PUT $A/report" ] || t_fail "first request"
[ "$(rec_field gce 2 method) $(rec_field gce 2 path)" = "PUT $A/summary" ] ||
	t_fail "second request"
for n in 1 2; do
	[ "$(rec_header gce $n Metadata-Flavor)" = Google ] || t_fail "request $n: no Metadata-Flavor"
done
grep -q '^response 0001 200$' "$T/gce/events" || t_fail "the metadata server refused the PUT"
check_schema "$T/gce/0001.body"
id=$(jget "$T/r2/$REPORT" "d['run_id']")
[ "$(jget "$T/gce/0001.body" "d['run_id']")" = "$id" ] || t_fail "report attribute"
[ "$(wc -l <"$T/gce/0002.body")" = 0 ] || t_fail "the summary is not one line"
grep -q "^$id repair exit [0-9]*:" "$T/gce/0002.body" || t_fail "summary: $(cat "$T/gce/0002.body")"
[ "$(jget "$T/r2/$REPORT" "d['delivery']['url']")" = "http://127.0.0.1:$PORT$A/report" ] ||
	t_fail "delivery.url $(jget "$T/r2/$REPORT" "d['delivery']['url']")"

t_case "flavor put: PUT of the report to a presigned URL with the headers object stores need"
t_mkroot "$T/rp"
policy "$T/pp" 3 2 10 'flavor = put' 'header = x-amz-server-side-encryption: AES256'
start_rec blob --mode blob
# a SAS-like query: the recorder refuses a PUT without sig=; the query never shows
purl="http://127.0.0.1:$PORT/reports/vm1.json?sv=2022-11-02&sp=cw&sig=c2VjcmV0"
run_sr repair "$T/rp" "$T/pp" "$purl"
((RC & 2)) && t_fail "exit $RC: bit 2 set: $(tail -n 3 "$T/err")"
[ "$(rec_count blob)" = 1 ] || t_fail "$(rec_count blob) requests, want 1"
[ "$(rec_field blob 1 method)" = PUT ] || t_fail "method $(rec_field blob 1 method)"
[ "$(rec_field blob 1 path)" = "/reports/vm1.json?sv=2022-11-02&sp=cw&sig=c2VjcmV0" ] ||
	t_fail "path $(rec_field blob 1 path)"
grep -q '^response 0001 201$' "$T/blob/events" || t_fail "the store refused the PUT: $(cat "$T/blob/events")"
[ "$(rec_header blob 1 Content-Type)" = application/json ] || t_fail "Content-Type $(rec_header blob 1 Content-Type)"
[ "$(rec_header blob 1 x-ms-blob-type)" = BlockBlob ] || t_fail "x-ms-blob-type $(rec_header blob 1 x-ms-blob-type)"
[ "$(rec_header blob 1 x-amz-server-side-encryption)" = AES256 ] || t_fail "configured header missing"
[ -z "$(rec_header blob 1 Expect)" ] || t_fail "Expect: 100-continue sent"
[ "$(rec_header blob 1 Content-Length)" = "$(stat -c %s "$T/blob/0001.body")" ] || t_fail "Content-Length"
check_schema "$T/blob/0001.body"
# the object read back through the same URL is this run's report, delivered
curl -sf -o "$T/object" "$purl" || t_fail "GET of the object failed"
[ "$(jget "$T/object" "d['run_id']")" = "$(jget "$T/rp/$REPORT" "d['run_id']")" ] ||
	t_fail "the object is not this run's report"
[ "$(jget "$T/rp/$REPORT" "d['delivery']['status']")" = delivered ] || t_fail "status"
[ "$(jget "$T/rp/$REPORT" "d['delivery']['url']")" = "http://127.0.0.1:$PORT/reports/vm1.json" ] ||
	t_fail "delivery.url $(jget "$T/rp/$REPORT" "d['delivery']['url']")"
t_no_grep 'sig=' "$T/err"
t_no_grep 'sig=' "$T/rp/$REPORT"

t_case "flavor put: a configured x-ms-blob-type replaces ours; an expired URL (403) is not retried"
t_mkroot "$T/rp2"
policy "$T/pp2" 3 2 10 'flavor = put' 'header = x-ms-blob-type: AppendBlob'
n0=$(rec_count blob)
run_sr repair "$T/rp2" "$T/pp2" "http://127.0.0.1:$PORT/reports/vm2.json?sig=x"
((RC & 2)) || t_fail "exit $RC: delivered although the store refused it"
[ "$(rec_header blob $((n0 + 1)) x-ms-blob-type)" = AppendBlob ] ||
	t_fail "x-ms-blob-type: $(rec_header blob $((n0 + 1)) x-ms-blob-type)"
t_grep 'HTTP 400 from PUT' "$T/err"
policy "$T/pp3" 3 2 10 'flavor = put'
n0=$(rec_count blob)
run_sr repair "$T/rp2" "$T/pp3" "http://127.0.0.1:$PORT/reports/vm2.json?se=expired"
[ "$(($(rec_count blob) - n0))" = 1 ] || t_fail "$(($(rec_count blob) - n0)) attempts at a 403, want 1"
t_grep 'HTTP 403 from PUT' "$T/err"

t_case "flavor aws-imdsv2: token PUT, then identity GET with the token, then POST with it"
t_mkroot "$T/r3"
policy "$T/p3" 3 2 10 'flavor = aws-imdsv2'
start_rec aws --mode aws
run_sr repair "$T/r3" "$T/p3" "http://127.0.0.1:$PORT/collect" \
	AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$PORT"
((RC & 2)) && t_fail "exit $RC: bit 2 set"
got=$(sed -n 's/^request [0-9]* //p' "$T/aws/events" | tr '\n' ';')
want="PUT /latest/api/token;GET /latest/dynamic/instance-identity/document;POST /collect;"
[ "$got" = "$want" ] ||
	t_fail "requests in order: $got"
ttl=$(rec_header aws 1 X-aws-ec2-metadata-token-ttl-seconds)
[[ "$ttl" =~ ^[0-9]+$ ]] && ((ttl >= 1 && ttl <= 21600)) || t_fail "token ttl '$ttl'"
[ "$(rec_header aws 2 X-aws-ec2-metadata-token)" = "$(cat "$T/aws/token")" ] ||
	t_fail "identity GET without the token"
grep -q '^response 0002 200$' "$T/aws/events" || t_fail "IMDS refused the identity GET"
check_schema "$T/aws/0003.body"
[ "$(jget "$T/aws/0003.body" "d['aws_identity']['instanceId']")" = i-0fedcba9876543210 ] ||
	t_fail "the POSTed report has no aws_identity"
[ "$(jget "$T/r3/$REPORT" "d['aws_identity']['region']")" = eu-west-1 ] ||
	t_fail "the report file has no aws_identity"

t_case "aws-imdsv2 without IMDS: the report is still delivered and says why no identity"
t_mkroot "$T/r3b"
start_rec aws2
refused=$($PY "$REC" --free-port)
run_sr repair "$T/r3b" "$T/p3" "http://127.0.0.1:$PORT/collect" \
	AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$refused"
((RC & 2)) && t_fail "exit $RC: bit 2 set"
[ "$(rec_count aws2)" = 1 ] || t_fail "$(rec_count aws2) requests, want 1"
jget "$T/aws2/0001.body" "d['aws_identity_error']" | grep -q 'no IMDSv2 token' ||
	t_fail "no aws_identity_error in the report"

# ---------------------------------------------------------------------------------------
# Faults: attempts = 3, timeout = 1 s, deadline = 8 s (3 timeouts + backoff fit in it).
policy "$T/pf" 3 1 8

t_case "fault: connection refused: 3 attempts, spooled, next run delivers it"
t_mkroot "$T/f1"
refused=$($PY "$REC" --free-port)
run_sr repair "$T/f1" "$T/pf" "http://127.0.0.1:$refused/report"
expect_spooled "$T/f1" 8 3
t_grep "^sshrescue: delivery: not delivered to .* after 3 attempts" "$T/err"
expect_next_run_delivers "$T/f1" "$T/pf" f1next

t_case "fault: libcurl cannot be loaded: no attempt, the report spooled all the same, delivered next"
t_mkroot "$T/f0"
mkdir -p "$T/nocurl"
# a libcurl.so.4 without curl's functions, found first through LD_LIBRARY_PATH
cc -shared -o "$T/nocurl/libcurl.so.4" -x c /dev/null || t_fail "cannot build the empty library"
run_sr repair "$T/f0" "$T/pf" "http://127.0.0.1:$refused/report" LD_LIBRARY_PATH="$T/nocurl"
expect_spooled "$T/f0" 8 0
t_grep "cannot load libcurl.so.4\|curl_global_init" "$T/err"
expect_next_run_delivers "$T/f0" "$T/pf" f0next

t_case "fault: accepts and never answers: 3 attempts cut at the timeout, spooled, delivered next"
t_mkroot "$T/f2"
start_rec hang --mode hang
run_sr repair "$T/f2" "$T/pf" "http://127.0.0.1:$PORT/report"
expect_spooled "$T/f2" 8 3
[ "$(rec_count hang)" = 3 ] || t_fail "the server saw $(rec_count hang) requests, want 3"
((MS >= 3000)) || t_fail "3 attempts of 1 s took only $MS ms"
expect_next_run_delivers "$T/f2" "$T/pf" f2next

t_case "fault: 500 then 200: delivered at the second attempt, nothing spooled"
t_mkroot "$T/f3"
start_rec fail1 --mode fail --fail 1
run_sr repair "$T/f3" "$T/pf" "http://127.0.0.1:$PORT/report"
((RC & 2)) && t_fail "exit $RC: bit 2 set"
[ "$(rec_count fail1)" = 2 ] || t_fail "$(rec_count fail1) requests, want 2"
[ "$(jget "$T/fail1/0002.body" "d['delivery']['attempts']")" = 2 ] || t_fail "body attempts"
[ "$(jget "$T/f3/$REPORT" "d['delivery']['attempts']")" = 2 ] || t_fail "attempts"
[ "$(jget "$T/f3/$REPORT" "d['delivery']['status']")" = delivered ] || t_fail "status"
[ ! -e "$T/f3/$SPOOL" ] || [ -z "$(ls -A "$T/f3/$SPOOL")" ] || t_fail "spool not empty"

t_case "fault: 500 every time: 3 attempts, spooled, delivered next"
t_mkroot "$T/f4"
start_rec fail9 --mode fail --fail 99
run_sr repair "$T/f4" "$T/pf" "http://127.0.0.1:$PORT/report"
expect_spooled "$T/f4" 8 3
[ "$(rec_count fail9)" = 3 ] || t_fail "$(rec_count fail9) requests, want 3"
expect_next_run_delivers "$T/f4" "$T/pf" f4next

t_case "fault: a 404 is not retried: 1 attempt, spooled"
t_mkroot "$T/f4b"
start_rec gce404 --mode gce
run_sr repair "$T/f4b" "$T/pf" "http://127.0.0.1:$PORT/report"
expect_spooled "$T/f4b" 8 1
[ "$(rec_count gce404)" = 1 ] || t_fail "$(rec_count gce404) requests, want 1"

t_case "fault: slow drip of the answer: each attempt cut at the timeout, spooled, delivered next"
t_mkroot "$T/f5"
start_rec drip --mode drip --drip 0.5
run_sr repair "$T/f5" "$T/pf" "http://127.0.0.1:$PORT/report"
expect_spooled "$T/f5" 8 3
[ "$(rec_count drip)" = 3 ] || t_fail "the server saw $(rec_count drip) requests, want 3"
expect_next_run_delivers "$T/f5" "$T/pf" f5next

t_case "fault: deadline shorter than the attempts: the run ends by the deadline"
t_mkroot "$T/f6"
policy "$T/pd" 10 2 3
start_rec hang2 --mode hang
run_sr repair "$T/f6" "$T/pd" "http://127.0.0.1:$PORT/report"
n=$(jget "$T/f6/$REPORT" "d['delivery']['attempts']")
expect_spooled "$T/f6" 3 "$n"
((n >= 1 && n < 10)) || t_fail "$n attempts within a 3 s deadline"
[ "$(rec_count hang2)" = "$n" ] ||
	t_fail "the server saw $(rec_count hang2) requests, the report says $n"
t_grep "deadline of 3 s reached" "$T/err"

# ---------------------------------------------------------------------------------------
t_case "TLS: ca_file adds the CA that signed the collector's certificate"
t_mkroot "$T/t1"
policy "$T/pt" 3 1 8 "ca_file = $T/pki/ca-a.pem"
start_rec tlsgood --tls "$T/pki/good.pem" "$T/pki/good.key"
run_sr repair "$T/t1" "$T/pt" "https://127.0.0.1:$PORT/report"
((RC & 2)) && t_fail "exit $RC: bit 2 set"
[ "$(rec_count tlsgood)" = 1 ] || t_fail "$(rec_count tlsgood) requests, want 1"

t_case "TLS: verified by default: a certificate of an unknown CA is refused (1 attempt)"
t_mkroot "$T/t2"
policy "$T/pt1" 1 1 8
run_sr repair "$T/t2" "$T/pt1" "https://127.0.0.1:$PORT/report"
expect_spooled "$T/t2" 8 1
[ "$(rec_count tlsgood)" = 1 ] || t_fail "a request got through without a trusted certificate"

t_case "fault: TLS certificate not signed by the given CA: 3 attempts, spooled, delivered next"
t_mkroot "$T/t3"
start_rec tlsevil --tls "$T/pki/evil.pem" "$T/pki/evil.key"
run_sr repair "$T/t3" "$T/pt" "https://127.0.0.1:$PORT/report"
expect_spooled "$T/t3" 8 3
[ "$(rec_count tlsevil)" = 0 ] || t_fail "the untrusted server got $(rec_count tlsevil) requests"
[ "$(grep -c '^connect$' "$T/tlsevil/events")" = 3 ] ||
	t_fail "$(grep -c '^connect$' "$T/tlsevil/events") TLS connections, want 3"
expect_next_run_delivers "$T/t3" "$T/pt" t3next

# ---------------------------------------------------------------------------------------
t_case "proxy from http_proxy: the request goes to the proxy in absolute form"
t_mkroot "$T/x1"
start_rec proxy
run_sr repair "$T/x1" "$T/p1" "http://collector.invalid/report" http_proxy="http://127.0.0.1:$PORT"
((RC & 2)) && t_fail "exit $RC: bit 2 set"
[ "$(rec_field proxy 1 path)" = "http://collector.invalid/report" ] ||
	t_fail "the proxy saw '$(rec_field proxy 1 path)'"

t_case "NO_PROXY: a listed host is reached directly"
t_mkroot "$T/x2"
start_rec direct
refused=$($PY "$REC" --free-port)
run_sr repair "$T/x2" "$T/p1" "http://127.0.0.1:$PORT/report" \
	http_proxy="http://127.0.0.1:$refused" NO_PROXY=127.0.0.1
((RC & 2)) && t_fail "exit $RC: bit 2 set"
[ "$(rec_count direct)" = 1 ] || t_fail "$(rec_count direct) requests, want 1"

# ---------------------------------------------------------------------------------------
t_case "check writes nothing: not delivered, not spooled, the spool of earlier runs untouched"
t_mkroot "$T/c1"
mkdir -p "$T/c1/$SPOOL"
echo '{"schema":"sshrescue-report/1","run_id":"20200101T000000Z-1"}' \
	>"$T/c1/$SPOOL/20200101T000000Z-1.json"
before=$(t_tree_sum "$T/c1")
refused=$($PY "$REC" --free-port)
policy "$T/pc" 1 1 8
run_sr check "$T/c1" "$T/pc" "http://127.0.0.1:$refused/report"
((RC & 2)) || t_fail "exit $RC: bit 2 not set"
[ "$before" = "$(t_tree_sum "$T/c1")" ] || t_fail "check changed the instance"
((MS <= (8 + SLACK) * 1000)) || t_fail "check took $MS ms"

t_case "the history keeps the newest 20 reports"
t_mkroot "$T/h1"
mkdir -p "$T/h1/var/log/sshrescue/history"
for i in $(seq 10 34); do
	echo '{}' >"$T/h1/var/log/sshrescue/history/20200101T0000${i}Z-1.json"
done
echo keep >"$T/h1/var/log/sshrescue/history/notes.txt"
run_sr repair "$T/h1" "$T/p1" ""
id=$(jget "$T/h1/$REPORT" "d['run_id']")
[ "$(ls "$T/h1/var/log/sshrescue/history" | grep -c '\.json$')" = 20 ] ||
	t_fail "$(ls "$T/h1/var/log/sshrescue/history" | grep -c '\.json$') reports in the history"
[ -f "$T/h1/var/log/sshrescue/history/$id.json" ] || t_fail "this run is not in the history"
[ ! -e "$T/h1/var/log/sshrescue/history/20200101T000010Z-1.json" ] || t_fail "oldest kept"
[ -f "$T/h1/var/log/sshrescue/history/notes.txt" ] || t_fail "a file not ours was removed"
[ "$(jget "$T/h1/$REPORT" "d['delivery']['status']")" = "not configured" ] || t_fail "status"

# ---------------------------------------------------------------------------------------
t_case "console: the chunked report, from a messy console capture, equals the report file"
t_mkroot "$T/k1"
# a long report with multi-byte characters, so chunks fall next to them
$PY -c 'print("é€🔑x" * 300)' >"$T/k1/etc/hostname"
printf '[report]\nconsole = yes\n' >"$T/pk"
cat "$T/p1" "$T/pk" >"$T/pk1"
run_sr repair "$T/k1" "$T/pk1" ""
grep -a '^SSHRESCUE-REPORT ' "$T/err" >"$T/chunks"
n=$(wc -l <"$T/chunks")
((n >= 3)) || t_fail "only $n chunk lines for a report of $(wc -c <"$T/k1/$REPORT") bytes"
$PY - "$T/chunks" <<'EOF' || t_fail "a chunk is over 1 KiB or splits a character"
import sys
for line in open(sys.argv[1], "rb"):
    chunk = line.rstrip(b"\n").split(b" ", 4)[4]
    assert len(chunk) <= 1024, len(chunk)
    chunk.decode("utf-8")
EOF
# what a serial console capture looks like: CR/LF, kernel lines in between, text before a
# chunk on its line, a chunk cut by a kernel line and printed again, NUL padding
$PY - "$T/chunks" "$T/capture" <<'EOF'
import sys
chunks = open(sys.argv[1], "rb").read().splitlines()
out = [b"\x00\x00[    0.000000] Linux version 6.1.0-13-amd64",
       b"[  OK  ] Reached target basic.target"]
for i, c in enumerate(chunks):
    out.append(b"[   %d.123456] random: crng init done" % (i + 5))
    if i == 0:
        out.append(c[:300] + b"[   7.000001] ata1: link up " + c[300:310])
        out.append(b"Nov 25 03:01:02 rescue sshrescue[1]: " + c)
    elif i == 1:
        out.append(b"\x1b[0m\r" + c + b"\r")
    else:
        out.append(c)
out.append(b"[   99.0] reboot: Restarting system")
open(sys.argv[2], "wb").write(b"\r\n".join(out) + b"\r\n")
EOF
$PY "$COLLECT" <"$T/capture" >"$T/collected" 2>"$T/collect.err" ||
	t_fail "sshrescue-console-collect failed: $(cat "$T/collect.err")"
t_same "$T/collected" "$T/k1/$REPORT"
mkdir -p "$T/kdir"
$PY "$COLLECT" -o "$T/kdir" "$T/capture" 2>/dev/null
id=$(jget "$T/k1/$REPORT" "d['run_id']")
t_same "$T/kdir/$id.json" "$T/k1/$REPORT"

t_case "console: a capture missing a chunk is reported, not guessed"
sed '2d' "$T/chunks" >"$T/capture2"
$PY "$COLLECT" <"$T/capture2" >"$T/collected2" 2>"$T/collect2.err"
rc=$?
[ "$rc" = 1 ] || t_fail "exit $rc, want 1"
t_grep "chunk 2 of $n missing" "$T/collect2.err"
[ ! -s "$T/collected2" ] || t_fail "an incomplete report was printed"
printf 'no report here\r\n' | $PY "$COLLECT" >/dev/null 2>&1
[ $? = 2 ] || t_fail "no report in the input: exit is not 2"

t_case "rescue boot: summary and delivery line on /dev/console and /dev/kmsg, chunks on the console"
# /dev/console and /dev/kmsg of a private mount namespace are plain files here
t_mkroot "$T/k3"
: >"$T/fake-console"
: >"$T/fake-kmsg"
unshare -m --propagation private sh -c 'mount --bind "$1" /dev/console &&
	mount --bind "$2" /dev/kmsg && shift 2 && exec env SSHRESCUE_RESCUE_BOOT=1 "$@"' sh \
	"$T/fake-console" "$T/fake-kmsg" "$SSHRESCUE" repair --root "$T/k3" --policy "$T/pk1" \
	>"$T/out" 2>"$T/err"
t_grep '^sshrescue: delivery: no endpoint configured' "$T/fake-console"
t_grep '^SSHRESCUE-REPORT ' "$T/fake-console"
t_grep '^<5>sshrescue: delivery: no endpoint configured' "$T/fake-kmsg"
t_no_grep 'SSHRESCUE-REPORT' "$T/fake-kmsg"
[ "$(grep -c '^sshrescue: delivery:' "$T/err")" = 1 ] ||
	t_fail "the delivery line is not once on stderr"
$PY "$COLLECT" <"$T/fake-console" >"$T/collected3" 2>/dev/null || t_fail "no report on the console"
[ "$(jget "$T/collected3" "d['run_id']")" = "$(jget "$T/k3/$REPORT" "d['run_id']")" ] ||
	t_fail "the console report is not this run's"

t_case "console: console = no prints no machine lines"
t_mkroot "$T/k2"
printf '[report]\nconsole = no\n' >"$T/pk"
cat "$T/p1" "$T/pk" >"$T/pk2"
run_sr repair "$T/k2" "$T/pk2" ""
t_no_grep '^SSHRESCUE-REPORT' "$T/err"
t_grep '^sshrescue: delivery: no endpoint configured' "$T/err"
t_done
