using Granary;
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using Granary.Definitions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Granary.Transforms;

/// <summary>One compile error in a transform source, with its place.</summary>
public sealed record TransformCompileError(string File, int Line, int Column, string Id, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File}:{Line}:{Column}: {Id}: {Message}";
}

/// <summary>The transform sources did not compile; <see cref="Errors"/> lists each error with file and line.</summary>
public sealed class TransformCompilationException : GranaryException
{
    /// <summary>A failed compile with every error.</summary>
    public TransformCompilationException(IReadOnlyList<TransformCompileError> errors)
        : base("on-demand transforms do not compile:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
        => Keep(nameof(Errors), errors.ToArray());

    /// <summary>The compile errors.</summary>
    public IReadOnlyList<TransformCompileError> Errors => Kept<TransformCompileError[]>(nameof(Errors), []);
}

/// <summary>Compiles transform sources (file name -> C#) with Roslyn into an in-memory assembly, deterministically.</summary>
public static class TransformCompiler
{
    // The whole shared framework plus Granary.Definitions: transforms may use any BCL type (Math, LINQ, Regex...).
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var paths = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => Path.GetFileName(p) is var n && (n.StartsWith("System.", StringComparison.Ordinal) || n is "netstandard.dll" or "mscorlib.dll" or "Microsoft.CSharp.dll"))
            .ToList();
        paths.Add(typeof(IOnDemandTransform).Assembly.Location);
        return [.. paths.Distinct(StringComparer.Ordinal).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    /// <summary>A stable hash of the sources (names and contents), naming the compiled assembly.</summary>
    public static string HashSources(IReadOnlyDictionary<string, string> sources)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (file, code) in sources.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(file));
            sha.AppendData([0]);
            sha.AppendData(Encoding.UTF8.GetBytes(code));
            sha.AppendData([0]);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// Compiles <paramref name="sources"/>; throws <see cref="TransformCompilationException"/> with every error. With
    /// <paramref name="cacheFolder"/>, a compilation of the same sources by the same compiler and Granary build is loaded
    /// from there instead (without loading Roslyn at all), and a new one is stored there.
    /// </summary>
    public static CompiledTransforms Compile(IReadOnlyDictionary<string, string> sources, string? cacheFolder = null)
    {
        var hash = HashSources(sources);
        var cached = cacheFolder is null ? null : Path.Combine(cacheFolder, $"{hash[..32]}-{BuildIdentity.Value}.dll");
        if (cached is not null && File.Exists(cached))
        {
            try
            {
                return Load(File.ReadAllBytes(cached), hash);
            }
            catch (BadImageFormatException)
            {
                // A damaged cache file: compile again and replace it.
            }
        }
        var bytes = Emit(sources, hash);
        if (cached is not null)
        {
            Directory.CreateDirectory(cacheFolder!);
            var temp = cached + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, cached, overwrite: true);
        }
        return Load(bytes, hash);
    }

    // What a cached image depends on besides the sources: this Granary build (the transforms reference it) and the runtime.
    private static readonly Lazy<string> BuildIdentity = new(() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
        typeof(IOnDemandTransform).Assembly.ManifestModule.ModuleVersionId + "|" + Environment.Version)))[..16]);

    private static CompiledTransforms Load(byte[] bytes, string hash)
    {
        // Collectible: a silo that drops an old registry version can unload its transforms.
        var context = new AssemblyLoadContext("granary-transforms-" + hash[..16], isCollectible: true);
        var assembly = context.LoadFromStream(new MemoryStream(bytes));
        return new CompiledTransforms(assembly, hash, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    // Kept apart from Compile so a cache hit never JIT-compiles code that touches Roslyn's types.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static byte[] Emit(IReadOnlyDictionary<string, string> sources, string hash)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = sources.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => CSharpSyntaxTree.ParseText(kv.Value, parse, path: kv.Key, encoding: Encoding.UTF8))
            .Append(CSharpSyntaxTree.ParseText("global using System; global using System.Linq; global using System.Collections.Generic; global using Granary.Definitions;", parse, path: "<implicit usings>"))
            .ToList();
        var compilation = CSharpCompilation.Create(
            "Granary.Transforms.Compiled." + hash[..16],
            trees,
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
                optimizationLevel: OptimizationLevel.Release,
                deterministic: true,
                nullableContextOptions: NullableContextOptions.Enable));

        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        if (!result.Success)
        {
            var errors = result.Diagnostics
                .Where(d => d.Severity == DiagnosticSeverity.Error)
                .Select(d =>
                {
                    var span = d.Location.GetLineSpan();
                    return new TransformCompileError(span.Path ?? "", span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1, d.Id, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
                })
                .ToList();
            throw new TransformCompilationException(errors);
        }
        return image.ToArray();
    }
}

/// <summary>The transforms of one set of sources, compiled: stateless instances by class name.</summary>
public sealed class CompiledTransforms
{
    private readonly Dictionary<string, IOnDemandTransform> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _ambiguous = new(StringComparer.Ordinal);

    internal CompiledTransforms(Assembly assembly, string sourceHash, string imageHash)
    {
        SourceHash = sourceHash;
        ImageHash = imageHash;
        foreach (var type in assembly.GetTypes())
        {
            if (!typeof(IOnDemandTransform).IsAssignableFrom(type) || type.IsAbstract || type.IsInterface) continue;
            if (type.GetConstructor(Type.EmptyTypes) is null) continue;
            var instance = (IOnDemandTransform)Activator.CreateInstance(type)!;
            _byName[type.FullName!] = instance;
            // The short name works too, unless two namespaces define it.
            if (_byName.TryGetValue(type.Name, out var existing) && existing.GetType() != type) _ambiguous[type.Name] = type.FullName!;
            else _byName[type.Name] = instance;
        }
        foreach (var name in _ambiguous.Keys) _byName.Remove(name);
        Names = _byName.Keys.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>SHA-256 of the sources.</summary>
    public string SourceHash { get; }

    /// <summary>SHA-256 of the compiled image: equal sources give an equal image (deterministic compilation).</summary>
    public string ImageHash { get; }

    /// <summary>Every name a transform can be found by (short and full class names).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Whether a public transform class named <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The transform named <paramref name="name"/>; throws naming the known transforms when absent.</summary>
    public IOnDemandTransform Get(string name)
    {
        if (_byName.TryGetValue(name, out var t)) return t;
        if (_ambiguous.TryGetValue(name, out var full))
            throw new KeyNotFoundException($"transform '{name}' is ambiguous (defined in more than one namespace); use the full name, e.g. '{full}'");
        throw new KeyNotFoundException($"no transform class '{name}' implementing IOnDemandTransform with a parameterless constructor; known: {string.Join(", ", Names.DefaultIfEmpty("(none)"))}");
    }
}
