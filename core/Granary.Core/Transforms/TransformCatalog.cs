using System.Collections.Concurrent;
using Granary.Definitions;

namespace Granary.Transforms;

/// <summary>
/// One per silo: the compiled transforms of each registry version, compiled on first use and cached, so the online
/// path, the offline path and every silo run the code that was applied with that version. With a cache folder
/// (the repository's <c>data/.transforms</c>), compiled images are kept on disk, so a process whose transforms did not
/// change since the last run loads them instead of starting Roslyn.
/// </summary>
public sealed class TransformCatalog(string? cacheFolder = null)
{
    // Versions map to source hashes, and hashes to compilations: versions that did not change the transforms share one assembly.
    private readonly ConcurrentDictionary<(string Project, long Version), Lazy<CompiledTransforms>> _byVersion = new();
    private readonly ConcurrentDictionary<string, Lazy<CompiledTransforms>> _bySources = new(StringComparer.Ordinal);

    /// <summary>The compiled transforms of <paramref name="snapshot"/>'s version; compiles on first use.</summary>
    public CompiledTransforms GetTransforms(RegistrySnapshot snapshot)
        => _byVersion.GetOrAdd((snapshot.Project, snapshot.Version), _ => new Lazy<CompiledTransforms>(() => Compile(snapshot.TransformSources))).Value;

    /// <summary>Compiles <paramref name="sources"/>, or returns the cached compilation of equal sources; throws <see cref="TransformCompilationException"/>.</summary>
    public CompiledTransforms Compile(IReadOnlyDictionary<string, string> sources)
        => _bySources.GetOrAdd(TransformCompiler.HashSources(sources), _ => new Lazy<CompiledTransforms>(() => TransformCompiler.Compile(sources, cacheFolder))).Value;

    /// <summary>The transform of the on-demand feature view <paramref name="onDemandViewName"/> in <paramref name="snapshot"/>.</summary>
    public IOnDemandTransform GetTransform(RegistrySnapshot snapshot, string onDemandViewName)
    {
        var view = snapshot.FindOnDemandFeatureView(onDemandViewName)
            ?? throw new KeyNotFoundException($"registry version {snapshot.Version} of project '{snapshot.Project}' has no on-demand feature view '{onDemandViewName}'; known: {string.Join(", ", snapshot.OnDemandFeatureViews.Select(v => v.Name).DefaultIfEmpty("(none)"))}");
        return GetTransforms(snapshot).Get(view.Transform);
    }
}
