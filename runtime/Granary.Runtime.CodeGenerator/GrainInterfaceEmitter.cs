using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace Granary.Runtime.CodeGenerator;

/// <summary>Emits the proxy and request types of one grain interface.</summary>
internal static class GrainInterfaceEmitter
{
    private const string Invocation = "global::Granary.Runtime.Invocation";
    private const string Serialization = "global::Granary.Runtime.Serialization";

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly SymbolDisplayFormat NameFormat = new(
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces);

    private enum ReturnKind { Task, TaskOfT, ValueTask, ValueTaskOfT }

    private sealed class MethodModel(IMethodSymbol symbol, ReturnKind kind, ITypeSymbol? resultType, string requestClass, int methodId, string options, string? timeout)
    {
        public IMethodSymbol Symbol { get; } = symbol;
        public ReturnKind Kind { get; } = kind;
        public ITypeSymbol? ResultType { get; } = resultType;
        public string RequestClass { get; } = requestClass;
        public int MethodId { get; } = methodId;
        public string Options { get; } = options;
        public string? Timeout { get; } = timeout;
        public string ResultTypeName => ResultType is null ? $"{Invocation}.NoResult" : ResultType.ToDisplayString(TypeFormat);
    }

    public static GrainInterfaceModel Emit(INamedTypeSymbol grainInterface)
    {
        var fullName = grainInterface.ToDisplayString(NameFormat);
        var safeName = Sanitize(fullName);
        var proxyClass = safeName + "_Proxy";
        var qualifiedProxy = "global::Granary.Generated." + proxyClass;
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var location = grainInterface.Locations.FirstOrDefault();

        if (grainInterface.IsGenericType)
        {
            diagnostics.Add(Diagnostic.Create(GeneratorDiagnostics.GenericInterface, location, fullName));
            return new GrainInterfaceModel(safeName, qualifiedProxy, null, diagnostics.ToImmutable());
        }

        var interfaceId = StableHash(fullName);
        var methods = new List<MethodModel>();
        var seenIds = new Dictionary<int, string>();
        var index = 0;
        foreach (var declaring in new[] { grainInterface }.Concat(grainInterface.AllInterfaces))
        {
            foreach (var member in declaring.GetMembers())
            {
                if (member is IMethodSymbol { MethodKind: MethodKind.Ordinary, IsStatic: false } method)
                {
                    if (!method.IsAbstract) continue; // default interface implementations run on the caller's side
                    var model = ToModel(method, safeName, index++, diagnostics);
                    if (model is null) continue;
                    if (seenIds.TryGetValue(model.MethodId, out var other))
                    {
                        diagnostics.Add(Diagnostic.Create(GeneratorDiagnostics.MethodIdCollision, method.Locations.FirstOrDefault(), method.Name, other, fullName));
                        continue;
                    }
                    seenIds.Add(model.MethodId, method.Name);
                    methods.Add(model);
                }
                else if (member is IPropertySymbol or IEventSymbol)
                {
                    diagnostics.Add(Diagnostic.Create(GeneratorDiagnostics.UnsupportedMember, member.Locations.FirstOrDefault(), member.Name, fullName));
                }
            }
        }

        if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
            return new GrainInterfaceModel(safeName, qualifiedProxy, null, diagnostics.ToImmutable());

        var source = EmitSource(grainInterface, fullName, interfaceId, proxyClass, methods);
        return new GrainInterfaceModel(safeName, qualifiedProxy, source, diagnostics.ToImmutable());
    }

    private static MethodModel? ToModel(IMethodSymbol method, string safeName, int index, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var location = method.Locations.FirstOrDefault();
        var name = method.ContainingType.ToDisplayString(NameFormat) + "." + method.Name;
        if (method.IsGenericMethod)
        {
            diagnostics.Add(Diagnostic.Create(GeneratorDiagnostics.GenericMethod, location, name));
            return null;
        }
        foreach (var parameter in method.Parameters)
        {
            if (parameter.RefKind is RefKind.Ref or RefKind.Out)
            {
                diagnostics.Add(Diagnostic.Create(GeneratorDiagnostics.RefParameter, location, parameter.Name, name));
                return null;
            }
        }

        ReturnKind kind;
        ITypeSymbol? resultType = null;
        var returnType = method.ReturnType as INamedTypeSymbol;
        var returnName = returnType?.ConstructedFrom.ToDisplayString();
        switch (returnName)
        {
            case "System.Threading.Tasks.Task": kind = ReturnKind.Task; break;
            case "System.Threading.Tasks.ValueTask": kind = ReturnKind.ValueTask; break;
            case "System.Threading.Tasks.Task<TResult>": kind = ReturnKind.TaskOfT; resultType = returnType!.TypeArguments[0]; break;
            case "System.Threading.Tasks.ValueTask<TResult>": kind = ReturnKind.ValueTaskOfT; resultType = returnType!.TypeArguments[0]; break;
            default:
                diagnostics.Add(Diagnostic.Create(GeneratorDiagnostics.UnsupportedReturnType, location, name, method.ReturnType.ToDisplayString()));
                return null;
        }

        var options = new List<string>();
        string? timeout = null;
        foreach (var attribute in method.GetAttributes())
        {
            switch (attribute.AttributeClass?.ToDisplayString())
            {
                case "Granary.Runtime.ReadOnlyAttribute": options.Add($"{Invocation}.GrainMethodOptions.ReadOnly"); break;
                case "Granary.Runtime.AlwaysInterleaveAttribute": options.Add($"{Invocation}.GrainMethodOptions.AlwaysInterleave"); break;
                case "Granary.Runtime.OneWayAttribute": options.Add($"{Invocation}.GrainMethodOptions.OneWay"); break;
                case "Granary.Runtime.ResponseTimeoutAttribute":
                    if (attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string text)
                    {
                        if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var parsed) || parsed <= TimeSpan.Zero)
                        {
                            diagnostics.Add(Diagnostic.Create(GeneratorDiagnostics.BadTimeout, location, text, name));
                            return null;
                        }
                        timeout = text;
                    }
                    break;
            }
        }
        if (options.Any(o => o.EndsWith("OneWay", StringComparison.Ordinal)) && resultType is not null)
        {
            diagnostics.Add(Diagnostic.Create(GeneratorDiagnostics.OneWayWithResult, location, name));
            return null;
        }

        var signature = method.ContainingType.ToDisplayString(NameFormat) + "." + method.Name + "("
            + string.Join(",", method.Parameters.Select(p => p.Type.ToDisplayString())) + ")";
        var requestClass = $"{safeName}_{method.Name}_{index}_Request";
        var optionText = options.Count == 0 ? $"{Invocation}.GrainMethodOptions.None" : string.Join(" | ", options);
        return new MethodModel(method, kind, resultType, requestClass, StableHash(signature), optionText, timeout);
    }

    private static string EmitSource(INamedTypeSymbol grainInterface, string fullName, int interfaceId, string proxyClass, List<MethodModel> methods)
    {
        var interfaceType = grainInterface.ToDisplayString(TypeFormat);
        var s = new StringBuilder();
        s.AppendLine("// <auto-generated/>");
        s.AppendLine("#nullable enable");
        s.AppendLine("#pragma warning disable CS1591, CS0618, CS8603, CS8604, CS8618, CS8625");
        s.AppendLine("namespace Granary.Generated");
        s.AppendLine("{");
        s.AppendLine($"    /// <summary>Generated proxy of <see cref=\"{interfaceType}\"/>: turns each call into a request for the runtime.</summary>");
        s.AppendLine("    [global::System.CodeDom.Compiler.GeneratedCode(\"Granary.Runtime.CodeGenerator\", \"1.0\")]");
        s.AppendLine($"    internal sealed class {proxyClass} : {Invocation}.GrainReference, {interfaceType}");
        s.AppendLine("    {");
        s.AppendLine($"        internal const int InterfaceId = {interfaceId};");
        s.AppendLine($"        public {proxyClass}({Invocation}.IGrainCallInvoker invoker, global::Granary.Runtime.GrainId grainId) : base(invoker, grainId) {{ }}");
        s.AppendLine($"        public override global::System.Type InterfaceType => typeof({interfaceType});");
        s.AppendLine();
        s.AppendLine($"        internal static {Invocation}.GrainInterfaceDescriptor CreateDescriptor() => new {Invocation}.GrainInterfaceDescriptor(");
        s.AppendLine($"            typeof({interfaceType}), \"{fullName}\", InterfaceId,");
        s.AppendLine($"            new {Invocation}.GrainMethodDescriptor[] {{ {string.Join(", ", methods.Select(m => m.RequestClass + ".Descriptor"))} }},");
        s.AppendLine($"            static (invoker, grainId) => new {proxyClass}(invoker, grainId),");
        s.AppendLine("            static methodId => methodId switch");
        s.AppendLine("            {");
        foreach (var method in methods)
            s.AppendLine($"                {method.MethodId} => new {method.RequestClass}(),");
        s.AppendLine("                _ => null,");
        s.AppendLine("            });");

        foreach (var method in methods) EmitProxyMethod(s, method);
        s.AppendLine("    }");

        foreach (var method in methods) EmitRequest(s, fullName, method);
        s.AppendLine("}");
        return s.ToString();
    }

    private static void EmitProxyMethod(StringBuilder s, MethodModel method)
    {
        var symbol = method.Symbol;
        var declaring = symbol.ContainingType.ToDisplayString(TypeFormat);
        var parameters = string.Join(", ", symbol.Parameters.Select(p => (p.RefKind == RefKind.In ? "in " : "") + p.Type.ToDisplayString(TypeFormat) + " @" + p.Name));
        s.AppendLine();
        s.AppendLine($"        {symbol.ReturnType.ToDisplayString(TypeFormat)} {declaring}.{symbol.Name}({parameters})");
        s.AppendLine("        {");
        // "__request" and "this." keep clear of whatever the interface names its parameters.
        s.AppendLine($"            var __request = new {method.RequestClass}();");
        for (var i = 0; i < symbol.Parameters.Length; i++)
            s.AppendLine($"            __request.Arg{i} = @{symbol.Parameters[i].Name};");
        var isOneWay = method.Options.Contains("OneWay");
        if (isOneWay)
        {
            s.AppendLine("            this.Invoker.InvokeOneWay(this, __request);");
            s.AppendLine(method.Kind == ReturnKind.Task ? "            return global::System.Threading.Tasks.Task.CompletedTask;" : "            return default;");
        }
        else
        {
            var call = "this.Invoker.InvokeAsync(this, __request)";
            s.AppendLine(method.Kind switch
            {
                ReturnKind.Task => $"            return {Invocation}.GrainResults.ToTask({call});",
                ReturnKind.ValueTask => $"            return {Invocation}.GrainResults.ToValueTask({call});",
                ReturnKind.TaskOfT => $"            return {call}.AsTask();",
                _ => $"            return {call};",
            });
        }
        s.AppendLine("        }");
    }

    private static void EmitRequest(StringBuilder s, string interfaceName, MethodModel method)
    {
        var symbol = method.Symbol;
        var declaring = symbol.ContainingType.ToDisplayString(TypeFormat);
        var result = method.ResultTypeName;
        var timeout = method.Timeout is null
            ? "null"
            : $"global::System.TimeSpan.Parse(\"{method.Timeout}\", global::System.Globalization.CultureInfo.InvariantCulture)";
        s.AppendLine();
        s.AppendLine($"    /// <summary>Generated request of <c>{interfaceName}.{symbol.Name}</c>.</summary>");
        s.AppendLine("    [global::System.CodeDom.Compiler.GeneratedCode(\"Granary.Runtime.CodeGenerator\", \"1.0\")]");
        s.AppendLine($"    internal sealed class {method.RequestClass} : {Invocation}.GrainRequest<{result}>");
        s.AppendLine("    {");
        s.AppendLine($"        internal static readonly {Invocation}.GrainMethodDescriptor Descriptor = new {Invocation}.GrainMethodDescriptor(");
        s.AppendLine($"            \"{interfaceName}\", \"{symbol.Name}\", {StableHash(interfaceName)}, {method.MethodId}, {method.Options}, {timeout});");
        for (var i = 0; i < symbol.Parameters.Length; i++)
            s.AppendLine($"        public {symbol.Parameters[i].Type.ToDisplayString(TypeFormat)} Arg{i} = default!;");
        s.AppendLine($"        public override {Invocation}.GrainMethodDescriptor Method => Descriptor;");

        var arguments = string.Join(", ", symbol.Parameters.Select((_, i) => "Arg" + i));
        var call = $"(({declaring})grain).{symbol.Name}({arguments})";
        var invoke = method.Kind switch
        {
            ReturnKind.Task => $"{Invocation}.GrainResults.FromTask({call})",
            ReturnKind.ValueTask => $"{Invocation}.GrainResults.FromValueTask({call})",
            ReturnKind.TaskOfT => $"{Invocation}.GrainResults.FromTask({call})",
            _ => call,
        };
        s.AppendLine($"        public override global::System.Threading.Tasks.ValueTask<{result}> InvokeAsync(object grain) => {invoke};");

        s.AppendLine($"        public override void WriteArguments({Serialization}.GrainWriter writer)");
        s.AppendLine("        {");
        for (var i = 0; i < symbol.Parameters.Length; i++)
            ValueCodec.EmitWrite(s, symbol.Parameters[i].Type, "Arg" + i, 3);
        s.AppendLine("        }");

        s.AppendLine($"        public override void ReadArguments(ref {Serialization}.GrainReader reader)");
        s.AppendLine("        {");
        for (var i = 0; i < symbol.Parameters.Length; i++)
            ValueCodec.EmitRead(s, symbol.Parameters[i].Type, "Arg" + i, 3);
        s.AppendLine("        }");

        s.AppendLine($"        public override void WriteResult({Serialization}.GrainWriter writer, {result} result)");
        s.AppendLine("        {");
        if (method.ResultType is not null) ValueCodec.EmitWrite(s, method.ResultType, "result", 3);
        s.AppendLine("        }");

        s.AppendLine($"        public override {result} ReadResult(ref {Serialization}.GrainReader reader)");
        s.AppendLine("        {");
        if (method.ResultType is not null)
        {
            s.AppendLine($"            {result} result = default!;");
            ValueCodec.EmitRead(s, method.ResultType, "result", 3);
            s.AppendLine("            return result;");
        }
        else
        {
            s.AppendLine("            return default;");
        }
        s.AppendLine("        }");
        s.AppendLine("    }");
    }

    internal static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name) builder.Append(char.IsLetterOrDigit(c) ? c : '_');
        return builder.ToString();
    }

    /// <summary>FNV-1a over the UTF-16 code units: stable across builds and machines.</summary>
    internal static int StableHash(string text)
    {
        unchecked
        {
            var hash = 2166136261u;
            foreach (var c in text)
            {
                hash = (hash ^ (byte)c) * 16777619u;
                hash = (hash ^ (byte)(c >> 8)) * 16777619u;
            }
            return (int)hash;
        }
    }

    internal static string Display(ITypeSymbol type) => type.ToDisplayString(TypeFormat);
}
