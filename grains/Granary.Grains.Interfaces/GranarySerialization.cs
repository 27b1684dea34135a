using Granary.Definitions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Granary.Grains;

/// <summary>
/// How core's model types cross grain calls. Core has no Orleans reference, so its records (registry snapshots, diffs,
/// entity columns) travel in their one canonical JSON form (<see cref="RegistryJson.Options"/>, the same form the
/// registry stores); contract types declared with the grain interfaces use Orleans' generated serializers.
/// Silos and clients must both call <see cref="AddGranarySerialization"/>.
/// </summary>
public static class GranarySerialization
{
    /// <summary>
    /// Registers the JSON codec for core's model types, and lets Orleans' exception codec carry Granary's exceptions
    /// (message, stack and <see cref="Exception.Data"/>, where <see cref="GranaryException"/> keeps its typed data).
    /// </summary>
    public static IServiceCollection AddGranarySerialization(this IServiceCollection services)
    {
        services.Configure<ExceptionSerializationOptions>(o =>
        {
            if (!o.SupportedNamespacePrefixes.Contains("Granary")) o.SupportedNamespacePrefixes.Add("Granary");
        });
        return services.AddSerializer(serializer => serializer.AddJsonSerializer(IsCoreModelType, RegistryJson.Options));
    }

    private static readonly System.Reflection.Assembly CoreAssembly = typeof(RegistrySnapshot).Assembly;

    /// <summary>Whether <paramref name="type"/> is one of core's model types (not an exception).</summary>
    public static bool IsCoreModelType(Type type) => type.Assembly == CoreAssembly && !typeof(Exception).IsAssignableFrom(type);
}
