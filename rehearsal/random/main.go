// Command terraform-provider-random is tfgen's stand-in for hashicorp/random in a
// real-provider rehearsal (`tfgen rehearse --provider real`): the real hashicorp/aws
// provider comes from a filesystem mirror, but no mirror on a machine without a
// registry holds random, which registry modules require (terraform-aws-modules/rds
// names final snapshots with random_id). The stand-in implements the resources those
// modules use with the real provider's schema subset: random_id, random_pet,
// random_string and random_password. Values are random (crypto/rand), stored in state,
// and replaced when keepers change, as with the real provider.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"math/big"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Version is the stand-in's own version; tfgen installs it under the version the
// configuration's constraint accepts.
var Version = "0.1.0-rehearsal"

type standIn struct{}

func (p *standIn) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "random"
	resp.Version = Version
}

func (p *standIn) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerSchema()
}

func (p *standIn) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *standIn) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return &randomID{} },
		func() resource.Resource { return &randomPet{} },
		func() resource.Resource { return &randomString{name: "string"} },
		func() resource.Resource { return &randomString{name: "password", sensitive: true} },
	}
}

func (p *standIn) DataSources(context.Context) []func() datasource.DataSource { return nil }

// Attributes every resource has: replaced when keepers change.
func keepers() schema.MapAttribute {
	return schema.MapAttribute{ElementType: types.StringType, Optional: true,
		PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()}}
}

func computed() schema.StringAttribute {
	return schema.StringAttribute{Computed: true,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
}

func inputString() schema.StringAttribute {
	return schema.StringAttribute{Optional: true,
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}}
}

func inputInt(required bool) schema.Int64Attribute {
	return schema.Int64Attribute{Required: required, Optional: !required, Computed: !required,
		PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()}}
}

func inputBool() schema.BoolAttribute {
	return schema.BoolAttribute{Optional: true, Computed: true,
		PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()}}
}

func randomBytes(n int64) ([]byte, error) {
	b := make([]byte, n)
	_, err := rand.Read(b)
	return b, err
}

// --- random_id ---------------------------------------------------------------------

type randomID struct{}

type idModel struct {
	ID         types.String `tfsdk:"id"`
	Keepers    types.Map    `tfsdk:"keepers"`
	ByteLength types.Int64  `tfsdk:"byte_length"`
	Prefix     types.String `tfsdk:"prefix"`
	B64URL     types.String `tfsdk:"b64_url"`
	B64Std     types.String `tfsdk:"b64_std"`
	Hex        types.String `tfsdk:"hex"`
	Dec        types.String `tfsdk:"dec"`
}

func (r *randomID) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_id"
}

func (r *randomID) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id": computed(), "keepers": keepers(), "byte_length": inputInt(true), "prefix": inputString(),
		"b64_url": computed(), "b64_std": computed(), "hex": computed(), "dec": computed(),
	}}
}

func (r *randomID) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m idModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.ByteLength.ValueInt64() < 1 {
		resp.Diagnostics.AddAttributeError(path.Root("byte_length"), "Invalid byte_length", "byte_length must be at least 1")
		return
	}
	b, err := randomBytes(m.ByteLength.ValueInt64())
	if err != nil {
		resp.Diagnostics.AddError("random_id", err.Error())
		return
	}
	prefix := m.Prefix.ValueString()
	id := base64.RawURLEncoding.EncodeToString(b)
	m.ID = types.StringValue(id)
	m.B64URL = types.StringValue(prefix + id)
	m.B64Std = types.StringValue(prefix + base64.StdEncoding.EncodeToString(b))
	m.Hex = types.StringValue(prefix + hex.EncodeToString(b))
	m.Dec = types.StringValue(prefix + new(big.Int).SetBytes(b).String())
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *randomID) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *randomID) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, req.Plan.Raw)...)
}
func (r *randomID) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// --- random_pet --------------------------------------------------------------------

var words = []string{"amber", "brisk", "calm", "deft", "eager", "fair", "gentle", "hardy", "keen", "lucid",
	"otter", "heron", "lynx", "marten", "osprey", "puffin", "raven", "stoat", "tern", "wren"}

type randomPet struct{}

type petModel struct {
	ID        types.String `tfsdk:"id"`
	Keepers   types.Map    `tfsdk:"keepers"`
	Length    types.Int64  `tfsdk:"length"`
	Prefix    types.String `tfsdk:"prefix"`
	Separator types.String `tfsdk:"separator"`
}

func (r *randomPet) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_pet"
}

func (r *randomPet) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	sep := schema.StringAttribute{Optional: true, Computed: true,
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}}
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id": computed(), "keepers": keepers(), "length": inputInt(false), "prefix": inputString(), "separator": sep,
	}}
}

func (r *randomPet) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m petModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	length := int64(2)
	if !m.Length.IsNull() && !m.Length.IsUnknown() {
		length = m.Length.ValueInt64()
	}
	separator := "-"
	if !m.Separator.IsNull() && !m.Separator.IsUnknown() {
		separator = m.Separator.ValueString()
	}
	parts := []string{}
	if m.Prefix.ValueString() != "" {
		parts = append(parts, m.Prefix.ValueString())
	}
	for i := int64(0); i < length; i++ {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(words))))
		if err != nil {
			resp.Diagnostics.AddError("random_pet", err.Error())
			return
		}
		parts = append(parts, words[n.Int64()])
	}
	m.ID = types.StringValue(strings.Join(parts, separator))
	m.Length = types.Int64Value(length)
	m.Separator = types.StringValue(separator)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *randomPet) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *randomPet) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, req.Plan.Raw)...)
}
func (r *randomPet) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// --- random_string / random_password ------------------------------------------------

type randomString struct {
	name      string
	sensitive bool
}

type stringModel struct {
	ID              types.String `tfsdk:"id"`
	Keepers         types.Map    `tfsdk:"keepers"`
	Length          types.Int64  `tfsdk:"length"`
	Special         types.Bool   `tfsdk:"special"`
	Upper           types.Bool   `tfsdk:"upper"`
	Lower           types.Bool   `tfsdk:"lower"`
	Numeric         types.Bool   `tfsdk:"numeric"`
	OverrideSpecial types.String `tfsdk:"override_special"`
	Result          types.String `tfsdk:"result"`
}

func (r *randomString) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + r.name
}

func (r *randomString) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	result := schema.StringAttribute{Computed: true, Sensitive: r.sensitive,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id": computed(), "keepers": keepers(), "length": inputInt(true), "special": inputBool(),
		"upper": inputBool(), "lower": inputBool(), "numeric": inputBool(), "override_special": inputString(),
		"result": result,
	}}
}

func orTrue(b types.Bool) bool { return b.IsNull() || b.IsUnknown() || b.ValueBool() }

func (r *randomString) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m stringModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	chars := ""
	if orTrue(m.Upper) {
		chars += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	}
	if orTrue(m.Lower) {
		chars += "abcdefghijklmnopqrstuvwxyz"
	}
	if orTrue(m.Numeric) {
		chars += "0123456789"
	}
	if orTrue(m.Special) {
		if m.OverrideSpecial.IsNull() {
			chars += "!@#$%&*()-_=+[]{}<>:?"
		} else {
			chars += m.OverrideSpecial.ValueString()
		}
	}
	if chars == "" || m.Length.ValueInt64() < 1 {
		resp.Diagnostics.AddError("random_"+r.name, "no characters to choose from, or length below 1")
		return
	}
	out := make([]byte, m.Length.ValueInt64())
	for i := range out {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			resp.Diagnostics.AddError("random_"+r.name, err.Error())
			return
		}
		out[i] = chars[n.Int64()]
	}
	m.Result = types.StringValue(string(out))
	m.ID = types.StringValue(string(out))
	if r.sensitive {
		m.ID = types.StringValue("none")
	}
	for _, b := range []*types.Bool{&m.Special, &m.Upper, &m.Lower, &m.Numeric} {
		*b = types.BoolValue(orTrue(*b))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *randomString) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *randomString) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, req.Plan.Raw)...)
}
func (r *randomString) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run with support for debuggers")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *version {
		fmt.Println(Version)
		return
	}
	err := providerserver.Serve(context.Background(), func() provider.Provider { return &standIn{} },
		providerserver.ServeOpts{Address: "registry.opentofu.org/hashicorp/random", Debug: debug})
	if err != nil {
		log.Fatal(err)
	}
}

func providerSchema() pschema.Schema {
	return pschema.Schema{Description: "tfgen rehearsal stand-in for hashicorp/random"}
}
