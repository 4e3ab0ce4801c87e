#!/usr/bin/env bash
# The administrator's policy applies to kernel-mode sockets at setsockopt()
# time, as in the userspace front end: ssa.ko asks ssad (SSA_CMD_CHECK)
# before it keeps an IPPROTO_TLS option.
. "$(dirname "$0")/lib.sh"
plan 8
kstart_ssad "min-version = TLSv1.3" "app-trust-anchors = no" || diag "ssad did not start"
out=$(python3 -c "
import errno, socket, struct
def t(name, val):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
    try:
        s.setsockopt(205, name, val); r = 'ok'
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    try:
        why = s.getsockopt(205, 100, 256).rstrip(b'\0').decode()
    except OSError:
        why = ''
    s.close()
    print(r, why)
t(112, struct.pack('i', 0x0303))
t(111, struct.pack('i', 0x0304))
t(87, b'$PKI/ca.crt\0')
t(92, b'NO-SUCH-CIPHER\0')
t(85, b'localhost\0')
t(88, b'/nonexistent/cert.pem\0')
t(105, struct.pack('i', 1))
t(122, struct.pack('i', 1))
" 2>&1)
sed "s|^|# |" <<<"$out"
like "$(sed -n 1p <<<"$out")" '^EINVAL TLS_VERSION_MAX below the minimum version' "TLS_VERSION_MAX below the policy's floor: refused at setsockopt with ssad's reason (EINVAL, as in userspace)"
like "$(sed -n 2p <<<"$out")" '^ok' "TLS_VERSION_MIN within policy: accepted"
like "$(sed -n 3p <<<"$out")" '^EPERM .*app-trust-anchors' "trust anchors with app-trust-anchors = no: EPERM"
like "$(sed -n 4p <<<"$out")" '^EINVAL' "an unknown cipher name: EINVAL"
like "$(sed -n 5p <<<"$out")" '^ok' "TLS_REMOTE_HOSTNAME: accepted"
like "$(sed -n 6p <<<"$out")" '^EINVAL' "a certificate path that does not exist: EINVAL"
like "$(sed -n 7p <<<"$out")" '^ok' "TLS_CRL_CHECKS (tighten-only revocation switch): accepted"
like "$(sed -n 8p <<<"$out")" '^ENOPROTOOPT' "TLS_SERVER_OCSP_STAPLING: not provided (ENOPROTOOPT), as in userspace"
stop_ssad
done_testing
