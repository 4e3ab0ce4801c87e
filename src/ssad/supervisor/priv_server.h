/* SPDX-License-Identifier: MIT */
/**
 * @file priv_server.h
 * @brief The supervisor's side of the worker's privileged requests
 *        (priv_msg.h): one request read, checked, done and answered.
 */
#ifndef SSAD_PRIV_SERVER_H
#define SSAD_PRIV_SERVER_H

/**
 * Serve one request waiting on chan (the supervisor's end of the pair).
 * @retval 0 served (or refused, answered EINVAL and logged)
 * @retval EAGAIN nothing waiting
 * @retval EPIPE the worker's end is closed
 */
int ssa_priv_serve(int chan);

/** The supervisor's channel to the current key keeper (keeper_loader.h), or -1. */
void ssa_priv_server_keeper(int chan);

#endif
