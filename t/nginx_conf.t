# nginx -t tells the admin what is wrong with a ticket configuration.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new(nginx => 0, init => 0);
my $port = Net::EmptyPort::empty_port();

sub conf_test {
    my (%o) = @_;
    return $tk->nginx_test($tk->nginx_conf(port => $port,
        prefix => $tk->dir . '/nginx-t', %o));
}

subtest 'a good configuration passes nginx -t' => sub {
    my ($rc, $out) = conf_test();
    is $rc, 0, 'exit 0' or diag $out;
    like $out, qr/test is successful/, 'nginx says so';
};

subtest 'the generated configuration names the module, socket and location' => sub {
    my $conf = $tk->nginx_conf(port => $port);
    like $conf, qr{^load_module \S+/build(-asan)?/ngx_http_ticket_module\.so;}m, 'load_module';
    like $conf, qr{ticket_redis unix:\S+/redis\.sock;}, 'ticket_redis on the socket';
    like $conf, qr{location / \{\s*ticket;}, 'location / { ticket; }';
    like $conf, qr{location /static/ \{\s*alias \S+/static/;}, 'static alias';
};

subtest '"ticket" without ticket_redis fails and says what is missing' => sub {
    my ($rc, $out) = conf_test(no_redis => 1);
    isnt $rc, 0, 'nginx -t fails';
    like $out, qr/ticket_redis/, 'the message names ticket_redis';
    unlike $out, qr/test is successful/;
};

for my $bad ('nohost', 'unix:', '127.0.0.1:99999', '127.0.0.1:abc', 'tcp://x:1') {
    subtest "ticket_redis \"$bad\" is rejected" => sub {
        my ($rc, $out) = conf_test(redis => $bad);
        isnt $rc, 0, 'nginx -t fails';
        like $out, qr/ticket_redis/, 'the message names the directive';
        like $out, qr/\Q$bad\E/, 'and the bad value' if $bad ne 'unix:';
    };
}

subtest 'ticket_redis with a host name passes (resolved when nginx starts)' => sub {
    my ($rc, $out) = conf_test(redis => 'localhost:6399');
    is $rc, 0, 'exit 0' or diag $out;
    ($rc, $out) = conf_test(redis => '[::1]:6399');
    is $rc, 0, 'an IPv6 address: exit 0' or diag $out;
};

subtest 'ticket_redis with a name that does not resolve fails nginx -t' => sub {
    my ($rc, $out) = conf_test(redis => 'no-such-host.invalid:6379');
    isnt $rc, 0, 'nginx -t fails';
    like $out, qr/invalid value "no-such-host\.invalid:6379" in "ticket_redis" directive: host not found/,
        'says which value and why';
    unlike $out, qr/test is successful/;
};

subtest 'ticket_redis unix:relative/path is rejected' => sub {
    my ($rc, $out) = conf_test(redis => 'unix:redis.sock');
    isnt $rc, 0, 'nginx -t fails';
    like $out, qr/ticket_redis.*absolute path/, 'wants an absolute path';
};

for my $bad ('abc', '-1s', '0') {
    subtest "ticket_redis_timeout \"$bad\" is rejected" => sub {
        my ($rc, $out) = conf_test(redis_timeout => "\"$bad\"");
        isnt $rc, 0, 'nginx -t fails';
        like $out, qr/ticket_redis_timeout/, 'the message names the directive';
    };
}

for my $bad ('noslash', 'http://example.org/x/') {
    subtest "ticket_base_url \"$bad\" is rejected" => sub {
        my ($rc, $out) = conf_test(location => "ticket_base_url $bad;");
        isnt $rc, 0, 'nginx -t fails';
        like $out, qr/ticket_base_url/, 'the message names the directive';
        like $out, qr/\Q$bad\E/, 'and the bad value';
    };
}

subtest 'a good ticket_base_url passes' => sub {
    my ($rc, $out) = conf_test(location => 'ticket_base_url /tickets/;');
    is $rc, 0, 'exit 0' or diag $out;
};

done_testing;
