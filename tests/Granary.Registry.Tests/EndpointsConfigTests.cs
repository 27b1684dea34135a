using Granary.Repository;

namespace Granary.Registry.Tests;

/// <summary><c>endpoints:</c> of granary.yaml: defaults, the sample's values, the older key, and refusals naming the key and the fix.</summary>
public sealed class EndpointsConfigTests
{
    private static RepositoryConfig Parse(string endpoints) => RepositoryConfig.Parse("project: demo\n" + endpoints + "\n", "granary.yaml");

    [Fact]
    public void Without_an_endpoints_section_the_served_defaults_apply()
    {
        var endpoints = Parse("").Endpoints;
        Assert.Equal(("127.0.0.1", 6566, 6570, 8888), (endpoints.Host, endpoints.RestPort, endpoints.GrpcPort, endpoints.WebPort));
        Assert.Equal("http://127.0.0.1:6570", endpoints.GrpcUrl);
    }

    [Fact]
    public void The_sample_granary_yaml_names_exactly_what_serve_listens_on_by_default()
        => Assert.Equal(new EndpointsConfig(), RepositoryConfig.Parse(SampleRepository.ConfigYaml("demo"), "granary.yaml").Endpoints);

    [Fact]
    public void Endpoints_are_read_and_web_may_be_off()
    {
        var endpoints = Parse("endpoints:\n  rest: 0.0.0.0:7000\n  grpc: 0.0.0.0:7001\n  web: off").Endpoints;
        Assert.Equal(("0.0.0.0", 7000, 7001, EndpointsConfig.WebPortOff), (endpoints.Host, endpoints.RestPort, endpoints.GrpcPort, endpoints.WebPort));
        // A client on this machine dials loopback, not the wildcard address.
        Assert.Equal("http://127.0.0.1:7001", endpoints.GrpcUrl);
    }

    [Fact]
    public void Http_is_still_read_as_the_older_name_of_rest()
        => Assert.Equal(7100, Parse("endpoints:\n  http: 127.0.0.1:7100").Endpoints.RestPort);

    [Theory]
    [InlineData("endpoints:\n  grpc: 6570", "granary.yaml:3: endpoints.grpc '6570' is not host:port; write e.g. 'grpc: 127.0.0.1:6570'")]
    [InlineData("endpoints:\n  rest: 127.0.0.1:70000", "granary.yaml:3: endpoints.rest port '70000' in '127.0.0.1:70000' is not a port between 0 and 65535 (0 = any free port); write e.g. 'rest: 127.0.0.1:6566'")]
    [InlineData("endpoints:\n  rest: example.com:6566", "granary.yaml:3: endpoints.rest host 'example.com' in 'example.com:6566' is not an IP address, 'localhost' or '*'; write e.g. 'rest: 127.0.0.1:6566'")]
    [InlineData("endpoints:\n  rest: 127.0.0.1:7000\n  grpc: 0.0.0.0:7001", "granary.yaml:4: endpoints.grpc listens on '0.0.0.0' but endpoints.rest on '127.0.0.1'; the gateway binds one address for all its ports: give every endpoint the same host")]
    [InlineData("endpoints:\n  rest: 127.0.0.1:7000\n  web: 127.0.0.1:7000", "granary.yaml:4: endpoints.web port 7000 is also endpoints.rest's; give the web endpoint its own port (default 8888), or write 'web: off'")]
    [InlineData("endpoints:\n  rest: 127.0.0.1:7000\n  http: 127.0.0.1:7000", "granary.yaml:4: endpoints has both 'rest' and 'http' (its older name); keep only 'rest'")]
    [InlineData("endpoints:\n  ui: 127.0.0.1:8888", "granary.yaml:3: endpoints: unknown key 'ui'; known: rest, http, grpc, web")]
    public void Bad_endpoints_are_refused_naming_the_key_and_the_fix(string yaml, string message)
    {
        var error = Assert.Throws<RepositoryValidationException>(() => Parse(yaml));
        Assert.Equal(message, Assert.Single(error.Errors).ToString());
    }
}
