#!/usr/bin/env bash
# Any language, no TLS library, no preload: a static C binary, Go's own
# syscall.Socket(AF_INET, SOCK_STREAM, 205), and Python's socket module.
. "$(dirname "$0")/lib.sh"
plan 9
kstart_ssad || diag "ssad did not start"
serve server

# static C
file "$KP/kclient-static" 2>/dev/null | grep -q 'statically linked'; ok $? "kclient-static is statically linked"
out=$("$KP/kclient-static" -n localhost -g / 127.0.0.1 "$port" 2>&1)
like "$out" $'^OK version=0x0304 .*\nREPLY HTTP/1.0 200 ok' "static C client: handshake and request"

# Go (CGO_ENABLED=0: no libc at all)
out=$("$KP/gosock" localhost 127.0.0.1 "$port" 2>&1)
like "$out" $'^OK version=0x0304\nREPLY HTTP/1.0 200 ok' "Go syscall.Socket(..., 205): handshake and request"
out=$("$KP/gosock" wrong.example 127.0.0.1 "$port" 2>&1)
like "$out" '^ERR 71 connect .*reason=certificate does not match the requested hostname' "Go: wrong name gives EPROTO (71) and TLS_ERROR"

# Python, nothing preloaded
py() {
	env -u LD_PRELOAD python3 -c "
import socket, sys
assert 'libssa' not in open('/proc/self/maps').read()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
s.setsockopt(205, 85, b'$1\0')
try:
    s.connect(('127.0.0.1', $port))
except OSError as e:
    print('ERR', e.errno, s.getsockopt(205, 100, 256).rstrip(b'\0').decode()); sys.exit(1)
print('OK', hex(int.from_bytes(s.getsockopt(205, 113, 4), 'little')), s.getpeername()[1] == $port)
s.sendall(b'GET / HTTP/1.0\r\n\r\n')
data = b''
while True:
    d = s.recv(4096)
    if not d: break
    data += d
print('REPLY', data.split(b'\r\n')[0].decode())
s.close()" 2>&1
}
out=$(py localhost)
like "$out" '^OK 0x304 True' "python socket(AF_INET, SOCK_STREAM, 205) without preload connects"
like "$out" $'\nREPLY HTTP/1.0 200 ok' "python reads the reply"
out=$(py wrong.example)
like "$out" '^ERR 71 certificate does not match the requested hostname' "python: EPROTO and the TLS_ERROR reason"

# A Python TLS server on the kernel front end, reached by Python ssl.
out=$(env -u LD_PRELOAD timeout 20 python3 -u -c "
import socket, ssl, threading
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 205)
ls.setsockopt(205, 88, b'$PKI/server-chain.crt\0')
ls.setsockopt(205, 89, b'$PKI/server.key\0')
ls.bind(('127.0.0.1', 0)); ls.listen(1); ls.settimeout(10)
port = ls.getsockname()[1]
def client():
    ctx = ssl.create_default_context(cafile='$PKI/ca.crt')
    with ctx.wrap_socket(socket.create_connection(('127.0.0.1', port), timeout=8), server_hostname='localhost') as c:
        c.sendall(b'ping'); print('client got', c.recv(10).decode())
t = threading.Thread(target=client); t.start()
c, addr = ls.accept()
print('accepted', addr[0], c.recv(10).decode()); c.sendall(b'pong'); t.join(); c.close()
" 2>&1)
like "$out" 'accepted 127.0.0.1 ping' "python server socket(205): accept, then plaintext"
like "$out" 'client got pong' "python server: reply reached the ssl client"
done_testing
