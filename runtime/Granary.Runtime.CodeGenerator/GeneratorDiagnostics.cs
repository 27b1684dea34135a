using Microsoft.CodeAnalysis;

namespace Granary.Runtime.CodeGenerator;

/// <summary>Errors the generator reports for grain interfaces it cannot proxy.</summary>
internal static class GeneratorDiagnostics
{
    private const string Category = "Granary.Runtime";

    public static readonly DiagnosticDescriptor GenericInterface = new(
        "GRN001", "Generic grain interface", "Grain interface '{0}' is generic; Granary proxies only non-generic grain interfaces", Category, DiagnosticSeverity.Error, true);

    public static readonly DiagnosticDescriptor UnsupportedReturnType = new(
        "GRN002", "Unsupported grain method return type", "Grain method '{0}' returns '{1}'; grain methods must return Task, Task<T>, ValueTask or ValueTask<T>", Category, DiagnosticSeverity.Error, true);

    public static readonly DiagnosticDescriptor RefParameter = new(
        "GRN003", "ref/out parameter on a grain method", "Parameter '{0}' of grain method '{1}' is ref or out; grain calls pass arguments by value", Category, DiagnosticSeverity.Error, true);

    public static readonly DiagnosticDescriptor GenericMethod = new(
        "GRN004", "Generic grain method", "Grain method '{0}' is generic; Granary proxies only non-generic methods", Category, DiagnosticSeverity.Error, true);

    public static readonly DiagnosticDescriptor OneWayWithResult = new(
        "GRN005", "[OneWay] method with a result", "Grain method '{0}' is [OneWay] but returns a value; one-way methods must return Task or ValueTask", Category, DiagnosticSeverity.Error, true);

    public static readonly DiagnosticDescriptor MethodIdCollision = new(
        "GRN006", "Grain method id collision", "Grain methods '{0}' and '{1}' of '{2}' hash to the same method id; rename one of them", Category, DiagnosticSeverity.Error, true);

    public static readonly DiagnosticDescriptor UnsupportedMember = new(
        "GRN007", "Property or event on a grain interface", "'{0}' on grain interface '{1}' is a property or event; grain interfaces may only declare methods", Category, DiagnosticSeverity.Error, true);

    public static readonly DiagnosticDescriptor BadTimeout = new(
        "GRN008", "Invalid [ResponseTimeout]", "[ResponseTimeout(\"{0}\")] on '{1}' is not a positive hh:mm:ss time span", Category, DiagnosticSeverity.Error, true);
}
