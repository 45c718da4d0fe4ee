throw new Error('msgpackr-extract is not installed in orion-mev (see scripts/stubs/msgpackr-extract/package.json); msgpackr uses its JS decoder');
