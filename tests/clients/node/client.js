'use strict';
// Nodemailer client of the real-client suite (tests/clients/run_clients.py).
//
//   node client.js ATTEMPTS.json
//
// For each attempt, one JSON line on standard output. It drives Nodemailer's SMTPConnection,
// the class its SMTP transport runs for every message, step by step (connect, login, send,
// quit), so a failure shows which step it belongs to. The options are those of
// createTransport(): requireTLS when the server is one that offers STARTTLS, secure for
// implicit TLS, and auth.method 'PLAIN' for the "plain" variant (the default variant leaves the
// choice to Nodemailer). The "oauth2" variant gives auth {type: 'OAuth2', user, accessToken}
// resolved the way SMTPTransport resolves it (getAuth: an XOAuth2 token holder and method
// XOAUTH2), with no refresh token. Connects to the attempt's address with the server name as servername.
const fs = require('fs');
const SMTPConnection = require('nodemailer/lib/smtp-connection');
const SMTPTransport = require('nodemailer/lib/smtp-transport');

function describe(err) {
    let text = (err && err.constructor ? err.constructor.name : 'Error') + ': ' + (err && err.message);
    if (err && err.code) {
        text += ' [code ' + err.code + (err.command ? ', command ' + err.command : '') + ']';
    }
    return text;
}

function step(connection, method, ...args) {
    return new Promise((resolve, reject) => {
        connection[method](...args, (err, info) => (err ? reject(err) : resolve(info)));
    });
}

async function run(a) {
    const res = { id: a.id, failed_step: null, error: '', auth_ok: false };
    const options = {
        host: a.connect,
        port: a.port,
        name: a.ehlo,
        secure: a.tls === 'implicit',
        requireTLS: a.tls === 'starttls',
        tls: { servername: a.name, ca: [fs.readFileSync(a.ca)] },
        connectionTimeout: 20000,
        greetingTimeout: 20000,
        socketTimeout: 20000
    };
    const connection = new SMTPConnection(options);
    let current = 'connect';
    let lateError = null;
    connection.on('error', err => {
        lateError = lateError || err;
    });
    try {
        await new Promise((resolve, reject) => {
            connection.once('error', reject);
            connection.connect(err => (err ? reject(err) : resolve()));
        });
        current = 'auth';
        let auth = { user: a.user, pass: a.password };
        if (a.variant === 'plain') {
            auth.method = 'PLAIN';
        } else if (a.variant === 'oauth2') {
            auth = new SMTPTransport({ auth: { type: 'OAuth2', user: a.user, accessToken: a.token } }).auth;
        }
        await step(connection, 'login', auth);
        res.auth_ok = true;
        current = 'mail';
        await step(connection, 'send', { from: a.from, to: [a.to] },
            'Subject: smtpprobe client test\r\n\r\nTest.\r\n');
        connection.quit();
    } catch (err) {
        res.failed_step = current;
        // A refused envelope names its command; RCPT and DATA are kept apart from MAIL.
        if (current === 'mail' && err && err.command) {
            if (/^RCPT/i.test(err.command)) res.failed_step = 'rcpt';
            else if (/^DATA/i.test(err.command) || err.code === 'EMESSAGE') res.failed_step = 'data';
        }
        if (current === 'connect' && err && err.code === 'ETLS') res.failed_step = 'starttls';
        res.error = describe(err);
    } finally {
        connection.close();
    }
    return res;
}

async function main() {
    const attempts = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
    for (const a of attempts) {
        process.stdout.write(JSON.stringify(await run(a)) + '\n');
    }
}

main().catch(err => {
    process.stderr.write(String(err && err.stack) + '\n');
    process.exit(2);
});
