-- fail2ban's own CREATE statements (fail2ban/server/database.py, 0.11 to 1.1: schema version 4),
-- with the jails sshd and recidive and one log position: the base of the test databases.
CREATE TABLE fail2banDb(version INTEGER);
INSERT INTO fail2banDb(version) VALUES (4);
CREATE TABLE jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
CREATE INDEX jails_name ON jails(name);
CREATE TABLE logs(jail TEXT NOT NULL, path TEXT, firstlinemd5 TEXT, lastfilepos INTEGER DEFAULT 0,
	FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE, UNIQUE(jail, path),
	UNIQUE(jail, path, firstlinemd5));
CREATE INDEX logs_path ON logs(path);
CREATE INDEX logs_jail_path ON logs(jail, path);
CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL,
	bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON,
	FOREIGN KEY(jail) REFERENCES jails(name));
CREATE INDEX bans_jail_timeofban_ip ON bans(jail, timeofban);
CREATE INDEX bans_jail_ip ON bans(jail, ip);
CREATE INDEX bans_ip ON bans(ip);
CREATE TABLE bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL,
	bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON,
	PRIMARY KEY(ip, jail), FOREIGN KEY(jail) REFERENCES jails(name));
CREATE INDEX bips_timeofban ON bips(timeofban);
CREATE INDEX bips_ip ON bips(ip);
INSERT INTO jails VALUES ('sshd', 1), ('recidive', 1);
INSERT INTO logs VALUES ('sshd', '/var/log/auth.log', 'd41d8cd98f00b204e9800998ecf8427e', 123456);
