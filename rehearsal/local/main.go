// Command terraform-provider-local is tfgen's stand-in for hashicorp/local in a
// real-provider rehearsal (`tfgen rehearse --provider real`): no mirror on a machine
// without a registry holds it (the Go module proxy serves terraform-provider-local only
// at v1.4.0, an SDK v1 build from before the resources modules use), and
// terraform-aws-modules/lambda writes its build plan with local_file.
//
// It implements the resources local_file and local_sensitive_file and the data source
// local_file with the real provider's schema and behaviour: exactly one content
// argument, the file written with file_permission under directories made with
// directory_permission, its Checksums as attributes, replaced on any change, dropped
// from state when the file is gone or differs (so the next apply writes it again), and
// removed on destroy.
package main

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Version is the stand-in's own version; tfgen installs it under the version the
// configuration's constraint accepts.
var Version = "0.1.0-rehearsal"

type standIn struct{}

func (p *standIn) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "local"
	resp.Version = Version
}

func (p *standIn) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{Description: "tfgen rehearsal stand-in for hashicorp/local"}
}

func (p *standIn) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *standIn) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return &localFile{name: "file", defaultPermission: "0777"} },
		func() resource.Resource {
			return &localFile{name: "sensitive_file", sensitive: true, defaultPermission: "0700"}
		},
	}
}

func (p *standIn) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{func() datasource.DataSource { return &fileData{} }}
}

// --- Checksums, shared by the resources and the data source --------------------------

type Checksums struct {
	ID                  types.String `tfsdk:"id"`
	ContentMD5          types.String `tfsdk:"content_md5"`
	ContentSHA1         types.String `tfsdk:"content_sha1"`
	ContentSHA256       types.String `tfsdk:"content_sha256"`
	ContentBase64SHA256 types.String `tfsdk:"content_base64sha256"`
	ContentSHA512       types.String `tfsdk:"content_sha512"`
	ContentBase64SHA512 types.String `tfsdk:"content_base64sha512"`
}

var checksumNames = []string{"id", "content_md5", "content_sha1", "content_sha256", "content_base64sha256",
	"content_sha512", "content_base64sha512"}

func sums(content []byte) Checksums {
	m := md5.Sum(content)
	s1 := sha1.Sum(content)
	s256 := sha256.Sum256(content)
	s512 := sha512.Sum512(content)
	return Checksums{
		ID:                  types.StringValue(hex.EncodeToString(s1[:])), // the real provider's id is the SHA1
		ContentMD5:          types.StringValue(hex.EncodeToString(m[:])),
		ContentSHA1:         types.StringValue(hex.EncodeToString(s1[:])),
		ContentSHA256:       types.StringValue(hex.EncodeToString(s256[:])),
		ContentBase64SHA256: types.StringValue(base64.StdEncoding.EncodeToString(s256[:])),
		ContentSHA512:       types.StringValue(hex.EncodeToString(s512[:])),
		ContentBase64SHA512: types.StringValue(base64.StdEncoding.EncodeToString(s512[:])),
	}
}

// --- local_file / local_sensitive_file ---------------------------------------------

type localFile struct {
	name              string
	sensitive         bool
	defaultPermission string
}

type fileModel struct {
	Filename            types.String `tfsdk:"filename"`
	Content             types.String `tfsdk:"content"`
	SensitiveContent    types.String `tfsdk:"sensitive_content"`
	ContentBase64       types.String `tfsdk:"content_base64"`
	Source              types.String `tfsdk:"source"`
	FilePermission      types.String `tfsdk:"file_permission"`
	DirectoryPermission types.String `tfsdk:"directory_permission"`
	Checksums
}

// local_sensitive_file has no sensitive_content: its model is the same minus that field.
type sensitiveFileModel struct {
	Filename            types.String `tfsdk:"filename"`
	Content             types.String `tfsdk:"content"`
	ContentBase64       types.String `tfsdk:"content_base64"`
	Source              types.String `tfsdk:"source"`
	FilePermission      types.String `tfsdk:"file_permission"`
	DirectoryPermission types.String `tfsdk:"directory_permission"`
	Checksums
}

func (f sensitiveFileModel) full() fileModel {
	return fileModel{f.Filename, f.Content, types.StringNull(), f.ContentBase64, f.Source, f.FilePermission,
		f.DirectoryPermission, f.Checksums}
}

func (m fileModel) sensitiveModel() sensitiveFileModel {
	return sensitiveFileModel{m.Filename, m.Content, m.ContentBase64, m.Source, m.FilePermission,
		m.DirectoryPermission, m.Checksums}
}

func (r *localFile) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + r.name
}

var permission = regexp.MustCompile(`^[0-7]{3,4}$`)

func (r *localFile) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	input := func(sensitive bool) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Sensitive: sensitive, PlanModifiers: replace}
	}
	mode := func() schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: replace,
			Default: stringdefault.StaticString(r.defaultPermission)}
	}
	attributes := map[string]schema.Attribute{
		"filename":             schema.StringAttribute{Required: true, PlanModifiers: replace},
		"content":              input(r.sensitive),
		"content_base64":       input(r.sensitive),
		"source":               input(false),
		"file_permission":      mode(),
		"directory_permission": mode(),
	}
	if !r.sensitive {
		attributes["sensitive_content"] = input(true)
	}
	for _, name := range checksumNames {
		attributes[name] = schema.StringAttribute{Computed: true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	}
	resp.Schema = schema.Schema{Attributes: attributes}
}

func (r *localFile) get(ctx context.Context, get func(context.Context, any) diag.Diagnostics) (fileModel, diag.Diagnostics) {
	if r.sensitive {
		var s sensitiveFileModel
		diags := get(ctx, &s)
		return s.full(), diags
	}
	var m fileModel
	diags := get(ctx, &m)
	return m, diags
}

func (r *localFile) model(m fileModel) any {
	if r.sensitive {
		v := m.sensitiveModel()
		return &v
	}
	return &m
}

// ValidateConfig refuses at plan time what the real provider refuses: no content
// argument or more than one, and a permission that is not 3-4 octal digits.
func (r *localFile) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	m, diags := r.get(ctx, req.Config.Get)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	given, unknown := 0, false
	for _, v := range []types.String{m.Content, m.SensitiveContent, m.ContentBase64, m.Source} {
		if v.IsUnknown() {
			unknown = true
		} else if !v.IsNull() {
			given++
		}
	}
	names := "content, content_base64, source"
	if !r.sensitive {
		names = "content, sensitive_content, content_base64, source"
	}
	if given > 1 || (given == 0 && !unknown) {
		resp.Diagnostics.AddError("Invalid Attribute Combination",
			fmt.Sprintf("Exactly one of these attributes must be configured: [%s]", names))
	}
	for attr, v := range map[string]types.String{"file_permission": m.FilePermission, "directory_permission": m.DirectoryPermission} {
		if !v.IsNull() && !v.IsUnknown() && !permission.MatchString(v.ValueString()) {
			resp.Diagnostics.AddAttributeError(path.Root(attr), "Invalid file permission",
				fmt.Sprintf("bad mode permission: string length should be 3 or 4 digits, and each digit must be between 0 and 7: %q", v.ValueString()))
		}
	}
}

func (m fileModel) content() ([]byte, error) {
	switch {
	case !m.SensitiveContent.IsNull():
		return []byte(m.SensitiveContent.ValueString()), nil
	case !m.ContentBase64.IsNull():
		return base64.StdEncoding.DecodeString(m.ContentBase64.ValueString())
	case !m.Source.IsNull():
		return os.ReadFile(m.Source.ValueString())
	default:
		return []byte(m.Content.ValueString()), nil
	}
}

func mode(text string) fs.FileMode {
	n, _ := strconv.ParseUint(text, 8, 32) // validated above
	return fs.FileMode(n)
}

func (r *localFile) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	m, diags := r.get(ctx, req.Plan.Get)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	content, err := m.content()
	if err != nil {
		resp.Diagnostics.AddError("Create local file error", "An unexpected error occurred while reading the content\n\n"+err.Error())
		return
	}
	filename := m.Filename.ValueString()
	if err := os.MkdirAll(filepath.Dir(filename), mode(m.DirectoryPermission.ValueString())); err != nil {
		resp.Diagnostics.AddError("Create local file error", "An unexpected error occurred while creating file directory\n\n"+err.Error())
		return
	}
	if err := os.WriteFile(filename, content, mode(m.FilePermission.ValueString())); err != nil {
		resp.Diagnostics.AddError("Create local file error", "An unexpected error occurred while writing the file\n\n"+err.Error())
		return
	}
	m.Checksums = sums(content)
	resp.Diagnostics.Append(resp.State.Set(ctx, r.model(m))...)
}

// Read drops the resource when its file is gone or holds other content: the next plan
// creates it again, as with the real provider.
func (r *localFile) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	m, diags := r.get(ctx, req.State.Get)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	content, err := os.ReadFile(m.Filename.ValueString())
	if err != nil || sums(content).ID != m.ID {
		resp.State.RemoveResource(ctx)
	}
}

func (r *localFile) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, req.Plan.Raw)...) // every argument replaces: nothing to do
}

func (r *localFile) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	m, diags := r.get(ctx, req.State.Get)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := os.Remove(m.Filename.ValueString()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		resp.Diagnostics.AddError("Delete local file error", err.Error())
	}
}

// --- data local_file ---------------------------------------------------------------

type fileData struct{}

type fileDataModel struct {
	Filename      types.String `tfsdk:"filename"`
	Content       types.String `tfsdk:"content"`
	ContentBase64 types.String `tfsdk:"content_base64"`
	Checksums
}

func (d *fileData) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_file"
}

func (d *fileData) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attributes := map[string]dschema.Attribute{
		"filename":       dschema.StringAttribute{Required: true},
		"content":        dschema.StringAttribute{Computed: true},
		"content_base64": dschema.StringAttribute{Computed: true},
	}
	for _, name := range checksumNames {
		attributes[name] = dschema.StringAttribute{Computed: true}
	}
	resp.Schema = dschema.Schema{Attributes: attributes}
}

func (d *fileData) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m fileDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	content, err := os.ReadFile(m.Filename.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Read local file data source error",
			"The file at given path cannot be read.\n\n+Original Error: "+err.Error())
		return
	}
	m.Content = types.StringValue(string(content))
	m.ContentBase64 = types.StringValue(base64.StdEncoding.EncodeToString(content))
	m.Checksums = sums(content)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

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
		providerserver.ServeOpts{Address: "registry.opentofu.org/hashicorp/local", Debug: debug})
	if err != nil {
		log.Fatal(err)
	}
}
