using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace Granary.Runtime.CodeGenerator;

/// <summary>
/// Emits binary write/read statements for one value: primitives, string, Guid, DateTime, DateTimeOffset, TimeSpan,
/// byte[], enums, nullable values and arrays/lists of those directly; any other type as JSON with cached metadata.
/// </summary>
internal static class ValueCodec
{
    private static string Indent(int depth) => new(' ', depth * 4);

    private static string? PrimitiveName(ITypeSymbol type)
    {
        switch (type.SpecialType)
        {
            case SpecialType.System_Boolean: return "Boolean";
            case SpecialType.System_Byte: return "Byte";
            case SpecialType.System_SByte: return "SByte";
            case SpecialType.System_Int16: return "Int16";
            case SpecialType.System_UInt16: return "UInt16";
            case SpecialType.System_Char: return "Char";
            case SpecialType.System_Int32: return "Int32";
            case SpecialType.System_UInt32: return "UInt32";
            case SpecialType.System_Int64: return "Int64";
            case SpecialType.System_UInt64: return "UInt64";
            case SpecialType.System_Single: return "Single";
            case SpecialType.System_Double: return "Double";
            case SpecialType.System_Decimal: return "Decimal";
            case SpecialType.System_String: return "String";
            case SpecialType.System_DateTime: return "DateTime";
        }
        switch (type.ToDisplayString())
        {
            case "System.Guid": return "Guid";
            case "System.DateTimeOffset": return "DateTimeOffset";
            case "System.TimeSpan": return "TimeSpan";
            default: return null;
        }
    }

    private static bool IsByteArray(ITypeSymbol type)
        => type is IArrayTypeSymbol { Rank: 1, ElementType.SpecialType: SpecialType.System_Byte };

    private static ITypeSymbol? NullableUnderlying(ITypeSymbol type)
        => type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } named ? named.TypeArguments[0] : null;

    /// <summary>The element type when <paramref name="type"/> is T[], List&lt;T&gt;, IList&lt;T&gt; or IReadOnlyList&lt;T&gt; of a simple T.</summary>
    private static ITypeSymbol? CollectionElement(ITypeSymbol type, out bool isArray)
    {
        isArray = false;
        ITypeSymbol? element = null;
        if (type is IArrayTypeSymbol { Rank: 1 } array)
        {
            isArray = true;
            element = array.ElementType;
        }
        else if (type is INamedTypeSymbol { IsGenericType: true } named)
        {
            var definition = named.OriginalDefinition.ToDisplayString();
            if (definition is "System.Collections.Generic.List<T>" or "System.Collections.Generic.IList<T>" or "System.Collections.Generic.IReadOnlyList<T>")
                element = named.TypeArguments[0];
        }
        // Nested collections fall back to JSON, which keeps the emitted code simple and correct.
        return element is not null && IsScalar(element) ? element : null;
    }

    private static bool IsGrainInterface(ITypeSymbol type)
        => type.TypeKind == TypeKind.Interface
           && (type.ToDisplayString() == "Granary.Runtime.IGrain" || type.AllInterfaces.Any(static i => i.ToDisplayString() == "Granary.Runtime.IGrain"));

    private static bool IsScalar(ITypeSymbol type)
        => PrimitiveName(type) is not null || type.TypeKind == TypeKind.Enum || IsGrainInterface(type)
           || (NullableUnderlying(type) is { } inner && (PrimitiveName(inner) is not null || inner.TypeKind == TypeKind.Enum));

    public static void EmitWrite(StringBuilder s, ITypeSymbol type, string expression, int depth)
    {
        var pad = Indent(depth);
        if (type.ToDisplayString() == "System.Threading.CancellationToken")
            return; // tokens do not cross silos; the remote side gets CancellationToken.None
        if (PrimitiveName(type) is { } primitive)
        {
            s.AppendLine($"{pad}writer.Write{primitive}({expression});");
            return;
        }
        if (IsByteArray(type))
        {
            s.AppendLine($"{pad}writer.WriteBytes({expression});");
            return;
        }
        if (IsGrainInterface(type))
        {
            s.AppendLine($"{pad}writer.WriteGrainReference({expression});");
            return;
        }
        if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } underlying })
        {
            var name = PrimitiveName(underlying)!;
            s.AppendLine($"{pad}writer.Write{name}(({underlying.ToDisplayString()}){expression});");
            return;
        }
        if (NullableUnderlying(type) is { } inner && IsScalar(inner))
        {
            var local = "n" + depth;
            s.AppendLine($"{pad}{{ var {local} = {expression}; writer.WriteBoolean({local}.HasValue); if ({local}.HasValue) {{");
            EmitWrite(s, inner, local + ".Value", depth + 1);
            s.AppendLine($"{pad}}} }}");
            return;
        }
        if (CollectionElement(type, out var isArray) is { } element)
        {
            var local = "c" + depth;
            var item = "e" + depth;
            s.AppendLine($"{pad}{{ var {local} = {expression};");
            s.AppendLine($"{pad}if ({local} is null) writer.WriteInt32(-1); else {{ writer.WriteInt32({local}.{(isArray ? "Length" : "Count")});");
            s.AppendLine($"{pad}foreach (var {item} in {local}) {{");
            EmitWrite(s, element, item, depth + 1);
            s.AppendLine($"{pad}}} }} }}");
            return;
        }
        s.AppendLine($"{pad}writer.WriteJson<{GrainInterfaceEmitter.Display(type)}>({expression});");
    }

    public static void EmitRead(StringBuilder s, ITypeSymbol type, string target, int depth)
    {
        var pad = Indent(depth);
        if (type.ToDisplayString() == "System.Threading.CancellationToken")
            return;
        if (PrimitiveName(type) is { } primitive)
        {
            var bang = type.IsReferenceType ? "!" : "";
            s.AppendLine($"{pad}{target} = reader.Read{primitive}(){bang};");
            return;
        }
        if (IsByteArray(type))
        {
            s.AppendLine($"{pad}{target} = reader.ReadBytes()!;");
            return;
        }
        if (IsGrainInterface(type))
        {
            var grainType = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
            s.AppendLine($"{pad}{target} = reader.ReadGrainReference<{grainType}>()!;");
            return;
        }
        var display = GrainInterfaceEmitter.Display(type);
        if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } underlying })
        {
            s.AppendLine($"{pad}{target} = ({display})reader.Read{PrimitiveName(underlying)}();");
            return;
        }
        if (NullableUnderlying(type) is { } inner && IsScalar(inner))
        {
            var local = "v" + depth;
            s.AppendLine($"{pad}if (reader.ReadBoolean()) {{ {GrainInterfaceEmitter.Display(inner)} {local} = default;");
            EmitRead(s, inner, local, depth + 1);
            s.AppendLine($"{pad}{target} = {local}; }} else {{ {target} = null; }}");
            return;
        }
        if (CollectionElement(type, out var isArray) is { } element)
        {
            var count = "n" + depth;
            var local = "c" + depth;
            var index = "i" + depth;
            var elementType = GrainInterfaceEmitter.Display(element);
            s.AppendLine($"{pad}{{ var {count} = reader.ReadCount();");
            s.AppendLine($"{pad}if ({count} < 0) {{ {target} = null!; }} else {{");
            if (isArray)
            {
                var allocation = elementType.EndsWith("?", System.StringComparison.Ordinal) && element.IsReferenceType
                    ? $"new {elementType.TrimEnd('?')}?[{count}]"
                    : $"new {elementType}[{count}]";
                s.AppendLine($"{pad}var {local} = {allocation};");
                s.AppendLine($"{pad}for (var {index} = 0; {index} < {count}; {index}++) {{");
                EmitRead(s, element, $"{local}[{index}]", depth + 1);
                s.AppendLine($"{pad}}}");
            }
            else
            {
                var item = "e" + depth;
                s.AppendLine($"{pad}var {local} = new global::System.Collections.Generic.List<{elementType}>({count});");
                s.AppendLine($"{pad}for (var {index} = 0; {index} < {count}; {index}++) {{ {elementType} {item} = default!;");
                EmitRead(s, element, item, depth + 1);
                s.AppendLine($"{pad}{local}.Add({item}); }}");
            }
            s.AppendLine($"{pad}{target} = {local}; }} }}");
            return;
        }
        s.AppendLine($"{pad}{target} = reader.ReadJson<{display}>();");
    }
}
