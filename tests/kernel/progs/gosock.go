// gosock: Go's own socket calls (no libc, no cgo, no preload) on the kernel
// front end: syscall.Socket(AF_INET, SOCK_STREAM, 205), TLS_REMOTE_HOSTNAME,
// connect, an HTTP GET, and TLS_ERROR on failure. Standard library only.
//
//	gosock HOSTNAME ADDRESS PORT
//
// Prints "OK version=0x0304", then "REPLY <first line>"; or "ERR <errno> reason=...".
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

const (
	ipprotoTLS        = 205
	tlsRemoteHostname = 85
	tlsError          = 100
	tlsChosenVersion  = 113
)

func tlsErrorString(fd int) string {
	buf := make([]byte, 512)
	l := uint32(len(buf))
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), ipprotoTLS, tlsError,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return "(TLS_ERROR: " + e.Error() + ")"
	}
	return strings.TrimRight(string(buf[:l]), "\x00")
}

func fail(fd int, what string, err error) {
	reason := ""
	if fd >= 0 {
		reason = tlsErrorString(fd)
	}
	name := err.Error()
	if en, ok := err.(syscall.Errno); ok {
		name = fmt.Sprintf("%d", int(en))
	}
	fmt.Printf("ERR %s %s (%v) reason=%s\n", name, what, err, reason)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: gosock HOSTNAME ADDRESS PORT")
		os.Exit(2)
	}
	ip := net.ParseIP(os.Args[2]).To4()
	port, _ := strconv.Atoi(os.Args[3])
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, ipprotoTLS)
	if err != nil {
		fail(-1, "socket", err)
	}
	if err := syscall.SetsockoptString(fd, ipprotoTLS, tlsRemoteHostname, os.Args[1]+"\x00"); err != nil {
		fail(fd, "setsockopt", err)
	}
	sa := &syscall.SockaddrInet4{Port: port}
	copy(sa.Addr[:], ip)
	if err := syscall.Connect(fd, sa); err != nil {
		fail(fd, "connect", err)
	}
	ver, _ := syscall.GetsockoptInt(fd, ipprotoTLS, tlsChosenVersion)
	fmt.Printf("OK version=0x%04x\n", ver)
	if _, err := syscall.Write(fd, []byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		fail(fd, "write", err)
	}
	var reply []byte
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			fail(fd, "read", err)
		}
		if n == 0 {
			break
		}
		reply = append(reply, buf[:n]...)
	}
	line := strings.SplitN(string(reply), "\n", 2)[0]
	fmt.Printf("REPLY %s\n", strings.TrimRight(line, "\r"))
	fmt.Printf("BYTES %d\n", len(reply))
	if err := syscall.Close(fd); err != nil {
		fail(-1, "close", err)
	}
}
