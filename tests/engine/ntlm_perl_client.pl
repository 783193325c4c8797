#!/usr/bin/perl
# An independent NTLMv2 client for tests/engine/sasl_exchange_test.cpp: Perl's Authen::NTLM
# (libauthen-ntlm-perl, the module swaks uses) with ntlmv2(1), over plain SMTP.
#   ntlm_perl_client.pl PORT DOMAIN USER PASSWORD   -> prints the final reply to AUTH NTLM
use strict;
use warnings;
use IO::Socket::INET;
use Authen::NTLM;

my ($port, $domain, $user, $password) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 10)
    or die "connect: $!";
sub reply {
    my $line;
    do {
        $line = <$s>;
        die "connection closed" unless defined $line;
    } while ($line =~ /^\d{3}-/);
    $line =~ s/\r?\n$//;
    return $line;
}
sub command { print $s "$_[0]\r\n"; return reply(); }

reply();
command("EHLO perl.test");
ntlmv2(1);
ntlm_user($user);
ntlm_domain($domain);
ntlm_password($password);
my $r = command("AUTH NTLM");
die "AUTH NTLM: $r" unless $r =~ /^334/;
$r = command(ntlm());
die "NEGOTIATE: $r" unless $r =~ s/^334 //;
print command(ntlm($r)), "\n";
command("QUIT");
