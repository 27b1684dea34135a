using Granary.Repository;

namespace Granary.Registry.Tests;

/// <summary>granary.yaml's online_store section: Feast's key_ttl_seconds, checked where it is written.</summary>
public sealed class OnlineStoreConfigTests
{
    [Fact]
    public void Key_ttl_seconds_becomes_the_online_key_expiry()
    {
        var config = RepositoryConfig.Parse("project: demo\nonline_store:\n  type: redis\n  connection_string: 127.0.0.1:6379\n  key_ttl_seconds: 86400\n", "granary.yaml");
        Assert.Equal(TimeSpan.FromDays(1), config.OnlineStore.KeyTtl);
        Assert.Null(RepositoryConfig.Parse("project: demo\n", "granary.yaml").OnlineStore.KeyTtl);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1.5")]
    [InlineData("a day")]
    public void A_key_ttl_that_is_not_a_positive_whole_number_of_seconds_is_an_error_at_its_line(string value)
    {
        var error = Assert.Throws<RepositoryValidationException>(() =>
            RepositoryConfig.Parse($"project: demo\nonline_store:\n  type: sqlite\n  key_ttl_seconds: {value}\n", "granary.yaml"));
        var problem = Assert.Single(error.Errors);
        Assert.Equal(new SourceLocation("granary.yaml", 4), problem.Location);
        Assert.Contains($"online_store.key_ttl_seconds '{value}' must be a whole number of seconds", problem.Message);
    }
}
