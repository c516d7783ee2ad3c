using S2CloudMask.Engine.Gdal;

namespace S2CloudMask.Engine.Tests.Gdal;

public class SpatialReferenceTests
{
    [Fact]
    public void EpsgCodesRoundTripThroughWkt()
    {
        using var utm = SpatialReference.FromUserInput("EPSG:32631");
        using var again = SpatialReference.FromWkt(utm.ToWkt());
        using var wgs84 = SpatialReference.FromEpsg(4326);

        Assert.Equal("EPSG:32631", again.AuthorityId);
        Assert.Equal("WGS 84 / UTM zone 31N", again.Name);
        Assert.True(again.IsSame(utm));
        Assert.False(again.IsSame(wgs84));
        Assert.True(wgs84.IsGeographic);
        Assert.False(wgs84.IsProjected);
    }

    [Fact]
    public void DefinitionWithoutAuthorityHasNoAuthorityId()
    {
        using var custom = SpatialReference.FromUserInput("+proj=utm +zone=31 +ellps=intl +units=m +no_defs");

        Assert.Null(custom.AuthorityId);
        Assert.True(custom.IsProjected);
    }

    [Fact]
    public void UnknownDefinitionThrowsGdalException()
    {
        var ex = Assert.Throws<GdalException>(() => SpatialReference.FromUserInput("EPSG:999999"));

        Assert.Contains("EPSG:999999", ex.Message, StringComparison.Ordinal);
        Assert.Throws<GdalException>(() => SpatialReference.FromWkt("PROJCS[nonsense"));
    }

    [Fact]
    public void PointGoesToUtmAndBackWithinAMicroDegreeInLonLatOrder()
    {
        using var wgs84 = SpatialReference.FromEpsg(4326);
        using var utm = SpatialReference.FromEpsg(32631);
        using var forward = new CoordinateTransformation(wgs84, utm);
        using var back = new CoordinateTransformation(utm, wgs84);
        const double lon = 1.8, lat = 42.37;

        var (e, n) = forward.Transform(lon, lat);
        var (lon2, lat2) = back.Transform(e, n);

        // Longitude first: 1.8 E is 1.2 degrees west of the zone's central meridian (3 E).
        Assert.InRange(e, 400_000, 402_000);
        Assert.InRange(n, 4_690_000, 4_693_000);
        Assert.Equal(lon, lon2, 1e-6);
        Assert.Equal(lat, lat2, 1e-6);
    }

    [Fact]
    public void SceneCornerMatchesGdalinfo()
    {
        using var wgs84 = SpatialReference.FromEpsg(4326);
        using var utm = SpatialReference.FromEpsg(32631);
        using var toLonLat = new CoordinateTransformation(utm, wgs84);
        double[] x = [399960, 402960];
        double[] y = [4693200, 4690200];

        toLonLat.Transform(x, y);

        // gdalinfo stack10.tif: upper left 1d47'4.94"E 42d23'4.73"N, lower right 1d49'17.93"E 42d21'28.86"N.
        Assert.Equal(1 + (47 / 60.0) + (4.94 / 3600), x[0], 1e-5);
        Assert.Equal(42 + (23 / 60.0) + (4.73 / 3600), y[0], 1e-5);
        Assert.Equal(1 + (49 / 60.0) + (17.93 / 3600), x[1], 1e-5);
        Assert.Equal(42 + (21 / 60.0) + (28.86 / 3600), y[1], 1e-5);
    }

    [Fact]
    public void BoundsCoverTheTransformedCorners()
    {
        using var wgs84 = SpatialReference.FromEpsg(4326);
        using var utm = SpatialReference.FromEpsg(32631);
        using var toUtm = new CoordinateTransformation(wgs84, utm);

        var (minX, minY, maxX, maxY) = toUtm.TransformBounds(1.78, 42.35, 1.83, 42.39);
        var (llx, lly) = toUtm.Transform(1.78, 42.35);
        var (urx, ury) = toUtm.Transform(1.83, 42.39);
        var (ulx, uly) = toUtm.Transform(1.78, 42.39);

        Assert.True(minX <= Math.Min(llx, ulx) && maxX >= urx, $"x {minX}..{maxX}");
        Assert.True(minY <= lly && maxY >= Math.Max(ury, uly), $"y {minY}..{maxY}");
        Assert.True(maxX - minX < 5000 && maxY - minY < 5000);
    }

    [Fact]
    public void TransformationOutlivesItsSpatialReferences()
    {
        CoordinateTransformation forward;
        using (var wgs84 = SpatialReference.FromEpsg(4326))
        using (var utm = SpatialReference.FromEpsg(32631))
        {
            forward = new CoordinateTransformation(wgs84, utm);
        }

        using (forward)
        {
            var (e, _) = forward.Transform(3.0, 0.0);
            Assert.Equal(500_000, e, 1e-6);
        }
    }

    [Fact]
    public void MismatchedCoordinateArraysAreRejected()
    {
        using var wgs84 = SpatialReference.FromEpsg(4326);
        using var utm = SpatialReference.FromEpsg(32631);
        using var forward = new CoordinateTransformation(wgs84, utm);

        Assert.Throws<ArgumentException>(() => forward.Transform(new double[2], new double[3]));
    }
}
