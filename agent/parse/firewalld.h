/* firewalld.h: firewalld's zone files (XML read by libexpat, bounded, no DTD; elements keep
 * their byte offsets for minimal edits), firewalld.conf's
 * DefaultZone, and the analysis of a zone: does it let protected sources reach sshd's ports
 * (zone target, services, ports, rich rules with their priorities)? Pure. */
#ifndef SSHRESCUE_FIREWALLD_H
#define SSHRESCUE_FIREWALLD_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/iptables_save.h" /* struct fw_scope */

struct xml_attr {
	char *name, *value; /* value as XML gives it: references decoded, whitespace normalized */
};

struct xml_elem {
	char *name;
	size_t parent; /* SIZE_MAX for the root element */
	unsigned depth, line;
	size_t start, end; /* from '<' to one past the '>' of its end tag (or of itself) */
	struct xml_attr *attrs;
	size_t n_attrs;
};

struct xml_doc {
	struct xml_elem *v; /* in document order */
	size_t n;
};

/* Parse with libexpat; -EINVAL with *err_line / *err on malformed XML or a DOCTYPE, -E2BIG past
 * the bounds (nesting 32, 100000 elements, 64 attributes an element). */
int firewalld_xml_parse(const char *buf, size_t len, struct xml_doc *out, unsigned *err_line,
			char **err);
void firewalld_xml_free(struct xml_doc *d);
const char *firewalld_xml_attr(const struct xml_elem *e, const char *name);

/* DefaultZone of firewalld.conf ("public" when unset); caller frees. */
char *firewalld_default_zone(const char *buf, size_t len);

enum fwd_fix_kind {
	FWD_COMMENT, /* comment out rich rule elem */
	FWD_ADD,     /* add an accept for the scope (priority < 0: ahead of deny rules) */
};

struct fwd_fix {
	enum fwd_fix_kind kind;
	size_t elem;
	int priority;
	int family;    /* the scope's; 0: every source of both families (a service/port element) */
	unsigned port; /* the sshd port the accept is for */
	struct cidr peer; /* and the protected network (family != 0) */
	char *why;
};

struct fwd_fixes {
	struct fwd_fix *v;
	size_t n;
	bool unsupported;
	char *note;
};
void fwd_fixes_free(struct fwd_fixes *f);

/* What the zone does to the scope's new connections; fixes to let them in. */
int firewalld_zone_analyze(const char *buf, size_t len, const struct xml_doc *d,
			   const struct fw_scope *s, struct fwd_fixes *out);
/* Addresses of the zone's <source> elements that overlap the scope's peers: the zone applies to
 * them. */
bool firewalld_zone_binds_peers(const struct xml_doc *d, const struct fw_scope *s);
/* Does the zone name interfaces (it applies to their traffic)? */
bool firewalld_zone_has_interfaces(const struct xml_doc *d);

/* The XML of the accept for one fix ("<service name=\"ssh\"/>" or a rich rule); caller frees. */
char *firewalld_accept_xml(const struct fw_scope *s, const struct fwd_fix *x);

/* Edits for the fixes (sorted); xml_marker is "sshrescue RUN-ID: " (XML comments carry it). */
void firewalld_edits(const char *buf, size_t len, const struct xml_doc *d,
		     const struct fwd_fixes *fx, const struct fw_scope *scopes, size_t n_scopes,
		     const char *xml_marker, const struct fw_edit_sink *out);

#endif
