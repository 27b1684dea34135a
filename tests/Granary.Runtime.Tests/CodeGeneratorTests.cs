using System.Collections.Immutable;
using Granary.Runtime.CodeGenerator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Granary.Runtime.Tests;

public sealed class CodeGeneratorTests
{
    [Fact]
    public void Valid_grain_interfaces_compile_with_their_generated_proxies()
    {
        var (diagnostics, output) = Generate("""
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Granary.Runtime;
            namespace Sample;
            public enum Mode : long { A, B }
            public sealed record Blob(string Name);
            public interface IBase : IGrainWithStringKey { Task<int> Inherited(int x); }
            public interface IGood : IBase
            {
                Task<string?> Text(string? a, List<Guid> ids, Mode mode, int? maybe, IReadOnlyList<DateTimeOffset> times, CancellationToken token);
                ValueTask<Blob> Json(Blob blob, Dictionary<string, int[]> map);
                [OneWay] ValueTask Fire(byte[] data);
                [ReadOnly, ResponseTimeout("00:00:05")] ValueTask<Mode[]> Read();
                Task<int> Clash(string request, int invoker, Guid writer, long grain, int result);
            }
            """);
        Assert.Empty(diagnostics);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
        Assert.NotNull(output.GetTypeByMetadataName("Granary.Generated.Sample_IGood_Proxy"));
        Assert.NotNull(output.GetTypeByMetadataName("Granary.Generated.GranaryGrainInterfaceRegistration"));
    }

    [Fact]
    public void Unsupported_grain_methods_are_reported_as_errors_naming_the_method()
    {
        var (diagnostics, _) = Generate("""
            using System.Threading.Tasks;
            using Granary.Runtime;
            namespace Sample;
            public interface IBad : IGrainWithStringKey
            {
                int NotAsync();
                Task<T> Generic<T>();
                [OneWay] Task<int> OneWayWithResult();
                Task WithRef(ref int x);
                int Property { get; }
                [ResponseTimeout("soon")] Task BadTimeout();
            }
            public interface IGeneric<T> : IGrainWithStringKey { Task M(T value); }
            """);
        var ids = diagnostics.Select(d => d.Id).ToHashSet();
        Assert.Equal(["GRN001", "GRN002", "GRN003", "GRN004", "GRN005", "GRN007", "GRN008"], ids.Order().ToArray());
        Assert.Contains(diagnostics, d => d.Id == "GRN002" && d.GetMessage().Contains("Sample.IBad.NotAsync"));
    }

    private static (ImmutableArray<Diagnostic> Diagnostics, Compilation Output) Generate(string source)
    {
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Select(path => MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(IGrain).Assembly.Location));
        var compilation = CSharpCompilation.Create(
            "GeneratorInput",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var driver = CSharpGeneratorDriver.Create(new GrainProxyGenerator());
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return (diagnostics, output);
    }
}
