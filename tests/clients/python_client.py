"""Python smtplib client of the real-client suite (run by Debian's /usr/bin/python3).

    /usr/bin/python3 python_client.py ATTEMPTS.json

For each attempt (see run_clients.py), one JSON line on standard output. The code is what an
application writes: SMTP (or SMTP_SSL for implicit TLS), ehlo(), starttls() when the server is
one that offers it, login(), sendmail(). It connects to the attempt's address but is given the
server name for TLS, as if the name resolved to it. The "xoauth2" variant calls
auth("XOAUTH2", authobject) with the attempt's token instead of login(); the authobject
answers a challenge (the error JSON after a refused token) with an empty response.
"""
import json
import smtplib
import socket
import ssl
import sys


def _connect_to(address):
    class Redirected:
        def _get_socket(self, host, port, timeout):
            sock = socket.create_connection((address, port), timeout)
            if isinstance(self, smtplib.SMTP_SSL):
                sock = self.context.wrap_socket(sock, server_hostname=host)
            return sock

    return Redirected


def run(a):
    res = {"id": a["id"], "failed_step": None, "error": "", "auth_ok": False}
    context = ssl.create_default_context(cafile=a["ca"])
    base = smtplib.SMTP_SSL if a["tls"] == "implicit" else smtplib.SMTP
    cls = type("Client", (_connect_to(a["connect"]), base), {})
    kwargs = {"context": context} if a["tls"] == "implicit" else {}
    step = "connect"
    client = None
    try:
        client = cls(a["name"], a["port"], local_hostname=a["ehlo"], timeout=20, **kwargs)
        step = "ehlo"
        client.ehlo()
        if a["tls"] == "starttls":
            step = "starttls"
            client.starttls(context=context)
            client.ehlo()
        step = "auth"
        if a["variant"] == "xoauth2":
            initial = "user=%s\x01auth=Bearer %s\x01\x01" % (a["user"], a["token"])
            client.auth("XOAUTH2", lambda challenge=None: initial if challenge is None else "")
        else:
            client.login(a["user"], a["password"])
        res["auth_ok"] = True
        step = "mail"
        code, reply = client.mail(a["from"])
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, a["from"])
        step = "rcpt"
        code, reply = client.rcpt(a["to"])
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({a["to"]: (code, reply)})
        step = "data"
        client.data(b"Subject: smtpprobe client test\r\n\r\nTest.\r\n")
        client.quit()
    except Exception as e:  # every failure is a result here
        res["failed_step"] = step
        res["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        if client is not None:
            try:
                client.close()
            except Exception:
                pass
    return res


def main():
    with open(sys.argv[1]) as f:
        attempts = json.load(f)
    for a in attempts:
        print(json.dumps(run(a)), flush=True)


if __name__ == "__main__":
    main()
