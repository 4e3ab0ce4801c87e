#!/usr/bin/env bash
#
# gen-pki.sh - generate the throw-away test PKI used by the SSA test suite.
#
# Usage: gen-pki.sh OUTDIR
#
# OUTDIR is wiped and regenerated on every run (it must be empty, not exist,
# or hold a PKI made by an earlier run). Everything is PEM. ECDSA P-256 keys
# are used unless the key type is the point of the certificate.
#
#   ca.crt/.key              root "SSA Test Root CA" (10 years from yesterday)
#   int.crt/.key             "SSA Test Intermediate CA", signed by root, pathlen:0
#   trust.pem                copy of ca.crt: the trust store given to ssad
#
# Leaves signed by the intermediate; each has NAME.crt, NAME.key and
# NAME-chain.crt (leaf first, then int.crt):
#   server        CN=localhost, SAN DNS:localhost, DNS:server.test,
#                 DNS:*.wild.test, IP:127.0.0.1, IP:::1 ("server SAN")
#   server-rsa    same names, RSA-2048 key
#   other         CN=other.test, SAN DNS:other.test
#   expired       server SAN, valid 2020-01-01 .. 2020-12-31
#   notyet        server SAN, valid 2099-01-01 .. 2099-12-31
#   wrongname     CN=wrong.example, SAN DNS:wrong.example only
#   weak          server SAN, RSA-1024 key
#   client        CN=client.test, SAN DNS:client.test, EKU clientAuth only
#   ipv4only      SAN IP:127.0.0.1 only (no DNS name at all)
#
# Revocation:
#   revoked       server SAN, revoked (keyCompromise) by the intermediate
#   ca.crl, int.crl   CRLs of the root and the intermediate; crls.pem = both
#   server.ocsp, revoked.ocsp   DER OCSP responses (good, revoked) signed by
#                 the intermediate, valid 7 days; badsigner.ocsp: "good"
#                 for server, signed by the leaf other (not a responder)
#
# Certificates nobody trusts:
#   selfsigned.crt/.key      self-signed, CA:FALSE, server SAN
#   untrusted-ca.crt/.key    separate root "Evil Root" (not in ca.crt)
#   untrusted.crt/.key       server SAN, signed by "Evil Root";
#                            untrusted-chain.crt = leaf + untrusted-ca.crt
#
# Good certificates are valid from yesterday (avoids clock-skew trouble) for
# about two years; all signatures are SHA-256 with random serial numbers.
# Requires the openssl command-line tool (written against OpenSSL 3.0) and
# GNU date.

set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 OUTDIR   (OUTDIR is wiped and regenerated)" >&2
    exit 2
fi
out=$1

# Refuse to wipe a directory that does not look like one of ours.
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] &&
   ! { [ -f "$out/ca.crt" ] && [ -f "$out/trust.pem" ]; }; then
    echo "$0: $out is not empty and does not look like a test PKI; refusing to wipe it" >&2
    exit 1
fi
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Validity periods, in the YYYYMMDDHHMMSSZ form `openssl ca` accepts.
ts() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
yesterday=$(ts "yesterday")
ca_end=$(ts "yesterday + 10 years")
leaf_end=$(ts "yesterday + 2 years")

server_san='DNS:localhost, DNS:server.test, DNS:*.wild.test, IP:127.0.0.1, IP:::1'

# Minimal `openssl ca` configuration. Only the bookkeeping lives here; the
# extensions of each certificate are passed with -extfile.
mkdir "$work/newcerts"
: > "$work/index.txt"
cat > "$work/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca

[ test_ca ]
database       = $work/index.txt
new_certs_dir  = $work/newcerts
rand_serial    = yes
default_md     = sha256
policy         = policy_any
unique_subject = no
email_in_dn    = no
copy_extensions = none

[ policy_any ]
commonName = supplied
EOF

# newkey NAME TYPE: write NAME.key (TYPE: ec, rsa2048, rsa1024)
newkey() {
    local key="$out/$1.key"
    case $2 in
        ec)      openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
                     -pkeyopt ec_param_enc:named_curve -out "$key" ;;
        rsa2048) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" ;;
        rsa1024) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$key" ;;
        *)       echo "unknown key type $2" >&2; exit 1 ;;
    esac
}

# sign NAME CN ISSUER START END EXTFILE
#   ISSUER is the base name of the signing CA, or "self" for a self-signed
#   certificate made with NAME.key.
sign() {
    local name=$1 cn=$2 issuer=$3 start=$4 end=$5 ext=$6
    local csr="$work/$name.csr"
    openssl req -new -key "$out/$name.key" -subj "/CN=$cn" -out "$csr"
    local signer=(-cert "$out/$issuer.crt" -keyfile "$out/$issuer.key")
    if [ "$issuer" = self ]; then
        signer=(-selfsign -keyfile "$out/$name.key")
    fi
    openssl ca -batch -notext -config "$work/ca.cnf" -preserveDN \
        "${signer[@]}" -startdate "$start" -enddate "$end" \
        -extfile "$ext" -in "$csr" -out "$out/$name.crt" 2>"$work/ca.log" ||
        { cat "$work/ca.log" >&2; exit 1; }
}

# Extension files.
ca_ext() {  # ca_ext FILE [PATHLEN]
    {
        echo "basicConstraints = critical, CA:TRUE${2:+, pathlen:$2}"
        echo "keyUsage = critical, keyCertSign, cRLSign"
        echo "subjectKeyIdentifier = hash"
        echo "authorityKeyIdentifier = keyid"
    } > "$1"
}
leaf_ext() {  # leaf_ext FILE SAN EKU KEYUSAGE
    {
        echo "basicConstraints = critical, CA:FALSE"
        echo "keyUsage = critical, $4"
        echo "extendedKeyUsage = $3"
        echo "subjectAltName = $2"
        echo "subjectKeyIdentifier = hash"
        echo "authorityKeyIdentifier = keyid"
    } > "$1"
}

# leaf NAME CN KEYTYPE SAN [EKU [START END]]: leaf signed by the intermediate,
# plus NAME-chain.crt.
leaf() {
    local name=$1 cn=$2 type=$3 san=$4
    local eku=${5:-serverAuth, clientAuth}
    local start=${6:-$yesterday} end=${7:-$leaf_end}
    # RSA leaves also get keyEncipherment so TLS 1.2 RSA key exchange works.
    local ku=digitalSignature
    case $type in rsa*) ku="digitalSignature, keyEncipherment" ;; esac
    newkey "$name" "$type"
    leaf_ext "$work/$name.ext" "$san" "$eku" "$ku"
    sign "$name" "$cn" int "$start" "$end" "$work/$name.ext"
    cat "$out/$name.crt" "$out/int.crt" > "$out/$name-chain.crt"
}

# --- Root and intermediate -------------------------------------------------
newkey ca ec
ca_ext "$work/root.ext"
sign ca "SSA Test Root CA" self "$yesterday" "$ca_end" "$work/root.ext"

newkey int ec
ca_ext "$work/int.ext" 0
sign int "SSA Test Intermediate CA" ca "$yesterday" "$ca_end" "$work/int.ext"

cp "$out/ca.crt" "$out/trust.pem"

# --- Leaves under the intermediate -----------------------------------------
leaf server     localhost     ec      "$server_san"
leaf server-rsa localhost     rsa2048 "$server_san"
leaf other      other.test    ec      "DNS:other.test"
leaf expired    localhost     ec      "$server_san" "serverAuth, clientAuth" \
                20200101000000Z 20201231235959Z
leaf notyet     localhost     ec      "$server_san" "serverAuth, clientAuth" \
                20990101000000Z 20991231235959Z
leaf wrongname  wrong.example ec      "DNS:wrong.example"
leaf weak       localhost     rsa1024 "$server_san"
leaf client     client.test   ec      "DNS:client.test" "clientAuth"
# CN is deliberately not a host name, so only the IP SAN can ever match.
leaf ipv4only   "SSA Test IPv4-only" ec "IP:127.0.0.1"

# --- Revocation ----------------------------------------------------------------
# revoked: server SAN, revoked by the intermediate. CRLs of both CAs (the
# intermediate's lists revoked), and OCSP responses signed by the
# intermediate for server (good) and revoked (revoked).
leaf revoked    localhost     ec      "$server_san"
openssl ca -config "$work/ca.cnf" -revoke "$out/revoked.crt" -crl_reason keyCompromise \
    -cert "$out/int.crt" -keyfile "$out/int.key" 2>"$work/ca.log" || { cat "$work/ca.log" >&2; exit 1; }
for c in ca int; do
    openssl ca -config "$work/ca.cnf" -gencrl -crldays 30 -cert "$out/$c.crt" \
        -keyfile "$out/$c.key" -out "$out/$c.crl" 2>"$work/ca.log" || { cat "$work/ca.log" >&2; exit 1; }
done
cat "$out/ca.crl" "$out/int.crl" > "$out/crls.pem"
for c in server revoked; do
    openssl ocsp -issuer "$out/int.crt" -cert "$out/$c.crt" -no_nonce -reqout "$work/$c.ocspreq" \
        >/dev/null 2>&1 || { echo "ocsp request for $c failed" >&2; exit 1; }
    openssl ocsp -index "$work/index.txt" -rsigner "$out/int.crt" -rkey "$out/int.key" \
        -CA "$out/int.crt" -reqin "$work/$c.ocspreq" -respout "$out/$c.ocsp" -ndays 7 \
        >/dev/null 2>&1 || { echo "ocsp response for $c failed" >&2; exit 1; }
done
# A response for server signed by a leaf with no authority to answer.
openssl ocsp -index "$work/index.txt" -rsigner "$out/other.crt" -rkey "$out/other.key" \
    -CA "$out/int.crt" -reqin "$work/server.ocspreq" -respout "$out/badsigner.ocsp" -ndays 7 \
    >/dev/null 2>&1 || { echo "ocsp response badsigner failed" >&2; exit 1; }

# --- Certificates nobody trusts --------------------------------------------
newkey selfsigned ec
leaf_ext "$work/selfsigned.ext" "$server_san" "serverAuth, clientAuth" digitalSignature
sign selfsigned localhost self "$yesterday" "$leaf_end" "$work/selfsigned.ext"

newkey untrusted-ca ec
ca_ext "$work/evil.ext"
sign untrusted-ca "Evil Root" self "$yesterday" "$ca_end" "$work/evil.ext"

newkey untrusted ec
leaf_ext "$work/untrusted.ext" "$server_san" "serverAuth, clientAuth" digitalSignature
sign untrusted localhost untrusted-ca "$yesterday" "$leaf_end" "$work/untrusted.ext"
cat "$out/untrusted.crt" "$out/untrusted-ca.crt" > "$out/untrusted-chain.crt"

# Note: the keys are made world-readable on purpose. They protect nothing, and
# tests run both as root and as unprivileged users that need to read them.
# Never reuse these keys (or this permission scheme) for anything real.
chmod 0644 "$out"/*.key

echo "test PKI written to $out"
