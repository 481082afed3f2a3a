# policy-keys.awk: turns `sshrescue --help-policy` into the roff list of sshrescue-policy(5).
/^\[/ { printf ".SS %s\n", $0; next }
/^; / { help = substr($0, 3); next }
/=/ {
	i = index($0, " = ")
	key = substr($0, 1, i - 1); def = substr($0, i + 3)
	printf ".TP\n.BR %s \" = \\fI%s\\fR\"\n%s\n", key, (def == "" ? "(empty)" : def), help
}
