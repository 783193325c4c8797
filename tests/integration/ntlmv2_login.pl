#!/usr/bin/perl
# An NTLMv2 login with Perl's Authen::NTLM (the module swaks uses, here with ntlmv2 on), as a
# client independent of smtpprobe: test_servers.py runs it against Exim with Cyrus SASL.
#   ntlmv2_login.pl PORT CA_FILE USER DOMAIN     (password in $NTLM_TEST_SECRET)
# STARTTLS, then AUTH NTLM; prints "NT response N bytes (NTLMv2|NTLMv1)" and the final reply.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Socket::SSL;
use MIME::Base64;
use Authen::NTLM qw(ntlm ntlm_user ntlm_password ntlm_domain ntlmv2);

my ($port, $ca, $user, $domain) = @ARGV;
my $password = $ENV{NTLM_TEST_SECRET};
defined $password or die "NTLM_TEST_SECRET is not set\n";
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 20) or die "connect: $!\n";

sub reply {
    my $all = "";
    while (my $line = <$s>) {
        $all .= $line;
        last if $line =~ /^\d{3} /;
    }
    return $all;
}
sub cmd { print $s "$_[0]\r\n"; return reply(); }

reply();
cmd("EHLO perl.integration.test");
cmd("STARTTLS") =~ /^220/ or die "STARTTLS refused\n";
IO::Socket::SSL->start_SSL($s, SSL_ca_file => $ca, SSL_verifycn_name => "localhost",
    SSL_verifycn_scheme => "smtp") or die "TLS: $SSL_ERROR\n";
cmd("EHLO perl.integration.test");
ntlmv2(1);
ntlm_user($user);
ntlm_password($password);
ntlm_domain($domain);
my $r = cmd("AUTH NTLM " . ntlm());
$r =~ /^334 (\S+)/ or die "no 334 to the NEGOTIATE: $r";
my $authenticate = ntlm($1);
my $nt_length = unpack("v", substr(decode_base64($authenticate), 20, 2));
print "NT response $nt_length bytes (" . ($nt_length > 24 ? "NTLMv2" : "NTLMv1") . ")\n";
print cmd($authenticate);
cmd("QUIT");
