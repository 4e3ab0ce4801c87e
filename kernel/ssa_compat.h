/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kernel API differences between the series ssa.ko supports
 * (Debian 6.1 and 6.12; anything from 6.1 on is meant to work).
 *
 * Each shim names the release that changed the interface. The choice is
 * made by feature tests in Kbuild (grep of the headers the module is built
 * against: SSA_HAVE_*), not by version numbers, so distribution backports
 * are followed. Nothing here reaches for unexported symbols.
 */
#ifndef SSA_COMPAT_H
#define SSA_COMPAT_H

#include <linux/net.h>
#include <net/sock.h>

/*
 * 6.10 ("net: change proto and proto_ops accept type"):
 * proto_ops.accept takes a struct proto_accept_arg * instead of
 * (int flags, bool kern).
 */
#ifdef SSA_HAVE_PROTO_ACCEPT_ARG
#define SSA_ACCEPT_ARGS struct proto_accept_arg *arg
#define SSA_ACCEPT_FLAGS (arg->flags)
#define SSA_ACCEPT_KERN (arg->kern)
#else
#define SSA_ACCEPT_ARGS int flags, bool kern
#define SSA_ACCEPT_FLAGS (flags)
#define SSA_ACCEPT_KERN (kern)
#endif

/*
 * 6.7 ("ipv6: remove hard coded limitation on
 * ipv6_pinfo"): inet6_create() finds struct ipv6_pinfo at
 * sk_prot->ipv6_pinfo_offset; before, at obj_size - sizeof(ipv6_pinfo).
 * struct ssa_sock keeps it last, so both rules find the same place.
 */
#ifdef SSA_HAVE_IPV6_PINFO_OFFSET
#define SSA_PROTO_IPV6_PINFO(type, member) .ipv6_pinfo_offset = offsetof(type, member),
#else
#define SSA_PROTO_IPV6_PINFO(type, member)
#endif

/*
 * 6.7 ("fs: use SLAB_TYPESAFE_BY_RCU for files"): get_file_rcu() takes the
 * address of an __rcu file pointer and returns the file with a reference
 * (SSA_HAVE_GET_FILE_RCU_PTR); before, it is a macro taking the file.
 *
 * 6.14, backported to 6.12.y ("net: better track kernel sockets
 * lifetime"): sk_net_refcnt_upgrade() (SSA_HAVE_SK_NET_REFCNT_UPGRADE)
 * must be used to give a kernel socket a full namespace reference.
 */

/*
 * 6.5 ("net: Remove ->sendpage() from proto_ops"
 * series, completed in 6.5): proto_ops.sendpage is gone; sendmsg with
 * MSG_SPLICE_PAGES replaces it. Before, the sendpage fallback of
 * kernel_sendpage() goes through sendmsg when .sendpage is NULL
 * (sock_no_sendpage), so nothing is needed on either side.
 *
 * 5.9 ("net: pass a sockptr_t into ->setsockopt"):
 * setsockopt takes sockptr_t; getsockopt still takes __user pointers in
 * both 6.1 and 6.12. The module only uses copy_from_sockptr(), present in
 * every supported release.
 *
 * 6.2 ("genetlink: allow families to use split ops"):
 * genl_split_ops; genl_small_ops (used here) is unchanged since 5.10.
 * 6.2 also requires resv_start_op; older kernels ignore the field, which
 * exists since 6.1.
 *
 * SOL_SOCKET setsockopt(): 6.1 always applies it to the outer socket
 * (sock_setsockopt); the SOCK_CUSTOM_SOCKOPT flag that would route it to
 * proto_ops.setsockopt first appeared in 6.3. The
 * module therefore copies the options that matter from the outer to the
 * inner socket (ssa_sync_sockopts()) on both series, one code path.
 */

#endif /* SSA_COMPAT_H */
