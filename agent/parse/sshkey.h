/* sshkey.h: the algorithm of an OpenSSH private key file, read without loading the key:
 * PEM "BEGIN DSA/RSA/EC PRIVATE KEY" headers, or the first public key of an "openssh-key-v1"
 * container (openssh-portable PROTOCOL.key). Pure and bounded. */
#ifndef SSHRESCUE_PARSE_SSHKEY_H
#define SSHRESCUE_PARSE_SSHKEY_H

#include <stddef.h>

/* "ssh-dss", "ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", ... copied to out (NUL
 * terminated); 0, or -EINVAL when the file is no private key we can read. */
int sshkey_private_type(const char *buf, size_t len, char *out, size_t out_len);

#endif
