// Go net/smtp client of the real-client suite (tests/clients/run_clients.py).
//
//	go-client ATTEMPTS.json
//
// ATTEMPTS.json is an array of attempts (see run_clients.py); for each, one JSON line on
// standard output. The steps are smtp.SendMail's own (Hello, STARTTLS when advertised, the
// AUTH extension check, Auth, Mail, Rcpt, Data, Quit), written out so that the client can be
// given the server name apart from the address it connects to (SendMail takes only one) and
// trust the test CA. Variants: "plain" (smtp.PlainAuth), "login" (the LOGIN smtp.Auth
// applications copy: net/smtp has none) and "xoauth2" (an XOAUTH2 smtp.Auth with the
// attempt's token: net/smtp has none either).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strconv"
	"time"
)

type attempt struct {
	ID       string `json:"id"`
	Variant  string `json:"variant"`
	Connect  string `json:"connect"`
	Port     int    `json:"port"`
	Name     string `json:"name"`
	TLS      string `json:"tls"`
	CA       string `json:"ca"`
	User     string `json:"user"`
	Password string `json:"password"`
	Token    string `json:"token"`
	Ehlo     string `json:"ehlo"`
	From     string `json:"from"`
	To       string `json:"to"`
}

type result struct {
	ID         string `json:"id"`
	FailedStep string `json:"failed_step"`
	Error      string `json:"error"`
	AuthOK     bool   `json:"auth_ok"`
}

// loginAuth is the LOGIN smtp.Auth that applications copy (net/smtp has none): the snippet
// of the article this project started from, as written there. Start asks for nothing (no TLS
// check, unlike PlainAuth), and Next answers only the exact prompts "Username:" and
// "Password:"; any other prompt ends the exchange with "unknown fromServer".
type loginAuth struct {
	username, password string
}

func LoginAuth(username, password string) smtp.Auth {
	return &loginAuth{username, password}
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	return "LOGIN", []byte{}, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if more {
		switch string(fromServer) {
		case "Username:":
			return []byte(a.username), nil
		case "Password:":
			return []byte(a.password), nil
		default:
			return nil, errors.New("unknown fromServer")
		}
	}
	return nil, nil
}

// xoauth2Auth is an XOAUTH2 smtp.Auth as applications write it (net/smtp has none): Start
// sends the token as the initial response, with no check of the mechanism list or of TLS;
// Next answers a challenge (the server's error JSON after a refused token) with an empty
// response, as Google's XOAUTH2 protocol page says, so that the server sends its final reply.
type xoauth2Auth struct {
	username, token string
}

func (a *xoauth2Auth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + a.username + "\x01auth=Bearer " + a.token + "\x01\x01"), nil
}

func (a *xoauth2Auth) Next(fromServer []byte, more bool) ([]byte, error) {
	if more {
		return []byte{}, nil
	}
	return nil, nil
}

func run(a attempt) (res result) {
	res.ID = a.ID
	fail := func(step string, err error) result {
		res.FailedStep = step
		res.Error = fmt.Sprintf("%T: %v", err, err)
		return res
	}
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(a.CA); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	tlsConfig := &tls.Config{ServerName: a.Name, RootCAs: pool}
	addr := net.JoinHostPort(a.Connect, strconv.Itoa(a.Port))
	var conn net.Conn
	var err error
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if a.TLS == "implicit" {
		conn, err = tls.DialWithDialer(dialer, "tcp", addr, tlsConfig)
	} else {
		conn, err = dialer.Dial("tcp", addr)
	}
	if err != nil {
		return fail("connect", err)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	c, err := smtp.NewClient(conn, a.Name)
	if err != nil {
		conn.Close()
		return fail("connect", err)
	}
	defer c.Close()
	if err = c.Hello(a.Ehlo); err != nil {
		return fail("ehlo", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err = c.StartTLS(tlsConfig); err != nil {
			return fail("starttls", err)
		}
	}
	var auth smtp.Auth
	if a.Variant == "login" {
		auth = LoginAuth(a.User, a.Password)
	} else if a.Variant == "xoauth2" {
		auth = &xoauth2Auth{a.User, a.Token}
	} else {
		auth = smtp.PlainAuth("", a.User, a.Password, a.Name)
	}
	if ok, _ := c.Extension("AUTH"); !ok {
		return fail("auth", errors.New("smtp: server doesn't support AUTH"))
	}
	if err = c.Auth(auth); err != nil {
		return fail("auth", err)
	}
	res.AuthOK = true
	if err = c.Mail(a.From); err != nil {
		return fail("mail", err)
	}
	if err = c.Rcpt(a.To); err != nil {
		return fail("rcpt", err)
	}
	w, err := c.Data()
	if err != nil {
		return fail("data", err)
	}
	if _, err = w.Write([]byte("Subject: smtpprobe client test\r\n\r\nTest.\r\n")); err != nil {
		return fail("data", err)
	}
	if err = w.Close(); err != nil {
		return fail("data", err)
	}
	c.Quit()
	return res
}

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var attempts []attempt
	if err := json.Unmarshal(data, &attempts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	for _, a := range attempts {
		out.Encode(run(a))
	}
}
