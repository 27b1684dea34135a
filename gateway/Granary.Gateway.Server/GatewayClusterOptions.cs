using Microsoft.Extensions.Options;

namespace Granary.Gateway.Server;

/// <summary>Which cluster this gateway process joins as a client; section <c>Granary:Gateway:Cluster</c> (env <c>Granary__Gateway__Cluster__ConnectionString</c>).</summary>
public sealed class GatewayClusterOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Granary:Gateway:Cluster";

    /// <summary>Npgsql connection string of the membership database the silos use. Required.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The silos' cluster id (the silo's <c>--cluster-id</c>). Default <c>granary</c>.</summary>
    public string ClusterId { get; set; } = "granary";

    /// <summary>The service id; the silos use their cluster id, so by default this is <see cref="ClusterId"/>.</summary>
    public string? ServiceId { get; set; }
}

/// <summary>Checks <see cref="GatewayClusterOptions"/> before the client starts, naming the key and the fix.</summary>
public sealed class GatewayClusterOptionsValidator : IValidateOptions<GatewayClusterOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, GatewayClusterOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            failures.Add($"{GatewayClusterOptions.SectionName}:ConnectionString is empty; give the PostgreSQL membership database the silos use (env Granary__Gateway__Cluster__ConnectionString)");
        if (string.IsNullOrWhiteSpace(options.ClusterId))
            failures.Add($"{GatewayClusterOptions.SectionName}:ClusterId is empty; give the silos' --cluster-id");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
